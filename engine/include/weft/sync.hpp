// Async building blocks for tasks: oneshot and bounded mpsc channels, Notify and
// an async Mutex.
//
// Every awaiter that registers a waker deregisters itself when destroyed, so a
// task that is aborted (its frame destroyed while suspended) leaves no dangling
// waiter behind. Every lock is the seam's Mutex, so the simulator sees each one.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <utility>

#include "weft/task.hpp"

WEFT_NS_BEGIN

namespace detail {

// Waiter is an intrusive node of a WaiterList, embedded in an awaiter.
struct Waiter {
  Waker waker;
  Waiter* prev = nullptr;
  Waiter* next = nullptr;
  // The flag and the two bools share one word (an idle task's frame holds a
  // Waiter: 32 bytes), and the awaiters that hold a Waiter put their own flags
  // in the rest of that word ([[no_unique_address]]: a Waiter is not a POD, so
  // its tail padding is theirs).
  Flag notified;
  bool linked = false;
  bool by_all = false;  // notified by a broadcast (Notify::notify_waiters), not passed on
  // is_notified is the readiness check of an awaiter that waits on this node.
  static bool is_notified(const void* p) { return static_cast<const Waiter*>(p)->notified; }
};

// WaiterList is a FIFO of waiters; the owner's lock guards it.
class WaiterList {
 public:
  void push_back(Waiter* w) {
    WEFT_ASSERT(!w->linked);
    w->prev = tail_;
    w->next = nullptr;
    if (tail_) tail_->next = w; else head_ = w;
    tail_ = w;
    w->linked = true;
    Platform::note_hold(Held::waiter, 0);  // given back by remove: the leak check counts both
  }
  Waiter* pop_front() {
    Waiter* w = head_;
    if (w) remove(w);
    return w;
  }
  void remove(Waiter* w) {
    WEFT_ASSERT(w->linked);
    if (w->prev) w->prev->next = w->next; else head_ = w->next;
    if (w->next) w->next->prev = w->prev; else tail_ = w->prev;
    w->prev = w->next = nullptr;
    w->linked = false;
    Platform::note_release(Held::waiter, 0);
  }
  bool empty() const { return head_ == nullptr; }

 private:
  Waiter* head_ = nullptr;
  Waiter* tail_ = nullptr;
};

}  // namespace detail

// ---------------------------------------------------------------- oneshot

namespace oneshot {

// RecvError is thrown when the sender was dropped without sending.
class RecvError : public std::runtime_error {
 public:
  RecvError() : std::runtime_error("oneshot sender dropped") {}
};

namespace detail {

// Inner is shared by one Sender and one Receiver. The rx_waker field belongs to the
// receiver while RX_WAKER is clear and to the sender while it is set. It comes
// from the task pool (PoolNew): a oneshot lives about as long as a task.
template <class T>
struct Inner : weft::detail::PoolNew {
  static constexpr std::uint32_t kRxWaker = 1, kSent = 2, kTxClosed = 4, kRxClosed = 8;
  Atomic<std::uint32_t> state{0};
  Atomic<std::uint32_t> refs{2};
  Cell<std::optional<T>> value;  // the sender's before kSent, the receiver's after
  Cell<Waker> rx_waker;           // see above: handed over by kRxWaker

  // Counted for the leak check (Held::allocation); freed by the last release().
  Inner() { Platform::note_hold(Held::allocation, sizeof(Inner)); }
  ~Inner() { Platform::note_release(Held::allocation, sizeof(Inner)); }
  Inner(const Inner&) = delete;
  Inner& operator=(const Inner&) = delete;

  void release() {
    // acq_rel: the release publishes this side's last writes to the fields; the
    // acquire of the last one to drop pairs with the other side's release before delete.
    if (refs.fetch_sub(1, Order::acq_rel) == 1) delete this;
  }
};

}  // namespace detail

template <class T>
class Sender {
 public:
  Sender() = default;
  explicit Sender(detail::Inner<T>* in) : in_(in) {}
  Sender(Sender&& o) noexcept : in_(std::exchange(o.in_, nullptr)) {}
  Sender& operator=(Sender&& o) noexcept {
    if (this != &o) {
      drop();
      in_ = std::exchange(o.in_, nullptr);
    }
    return *this;
  }
  ~Sender() { drop(); }

  // send delivers v; false if the receiver is gone. A Sender sends at most once.
  bool send(T v) {
    auto* in = std::exchange(in_, nullptr);
    WEFT_CHECK(in != nullptr);
    // acquire pairs with the receiver's acq_rel fetch_or of kRxClosed in drop().
    if (in->state.load(Order::acquire) & detail::Inner<T>::kRxClosed) {
      in->release();
      return false;
    }
    in->value.with_mut([&v](std::optional<T>& slot) { slot.emplace(std::move(v)); });
    // release publishes `value` to the receiver's acquire loads of kSent; acquire
    // pairs with the receiver's acq_rel fetch_or of kRxWaker, which published rx_waker.
    std::uint32_t prev = in->state.fetch_or(detail::Inner<T>::kSent, Order::acq_rel);
    if (prev & detail::Inner<T>::kRxWaker) in->rx_waker.with([](const Waker& w) { w.wake_by_ref(); });
    in->release();
    return true;
  }
  // acquire pairs with the receiver's acq_rel fetch_or of kRxClosed in drop().
  bool is_closed() const { return !in_ || (in_->state.load(Order::acquire) & detail::Inner<T>::kRxClosed); }

 private:
  void drop() {
    if (auto* in = std::exchange(in_, nullptr)) {
      // acq_rel as in send(): release to the receiver's acquire of kTxClosed, acquire
      // of the receiver's kRxWaker publication of rx_waker.
      std::uint32_t prev = in->state.fetch_or(detail::Inner<T>::kTxClosed, Order::acq_rel);
      if (prev & detail::Inner<T>::kRxWaker) in->rx_waker.with([](const Waker& w) { w.wake_by_ref(); });
      in->release();
    }
  }
  detail::Inner<T>* in_ = nullptr;
};

// Receiver is awaitable once: co_await rx gives the value or throws RecvError.
template <class T>
class Receiver {
  using In = detail::Inner<T>;

 public:
  Receiver() = default;
  explicit Receiver(In* in) : in_(in) {}
  Receiver(Receiver&& o) noexcept : in_(std::exchange(o.in_, nullptr)) {}
  Receiver& operator=(Receiver&& o) noexcept {
    if (this != &o) {
      drop();
      in_ = std::exchange(o.in_, nullptr);
    }
    return *this;
  }
  ~Receiver() { drop(); }

  // try_recv returns the value if it has been sent.
  std::optional<T> try_recv() {
    // acquire pairs with send()'s acq_rel fetch_or of kSent, which published `value`.
    if (in_->state.load(Order::acquire) & In::kSent)
      return in_->value.with_mut([](std::optional<T>& v) { return std::move(v); });
    return std::nullopt;
  }

  bool await_ready() {
    WEFT_CHECK(in_ != nullptr);
    // acquire pairs with the sender's acq_rel fetch_or of kSent or kTxClosed.
    if (!(in_->state.load(Order::acquire) & (In::kSent | In::kTxClosed))) return false;
    return budget_.proceed();
  }
  bool await_suspend(std::coroutine_handle<> h) {
    if (budget_.yield_if_spent(h)) return true;
    static constexpr LeafKind kReceive{"oneshot::Receiver", [](const void* p) {
      // acquire: pairs with the sender's acq_rel fetch_or of kSent or kTxClosed.
      return (static_cast<const In*>(p)->state.load(Order::acquire) & (In::kSent | In::kTxClosed)) != 0;
    }};
    Waker w = suspend_current(h, kReceive, in_);
    // Every acquire below pairs with the sender's acq_rel fetch_or of kSent or
    // kTxClosed (send(), drop()); the acq_rel CAS and fetch_or of kRxWaker release
    // rx_waker to the sender's acquire half of that same fetch_or.
    std::uint32_t cur = in_->state.load(Order::acquire);
    if (cur & In::kRxWaker) {
      if (in_->rx_waker.with([&w](const Waker& mine) { return mine.will_wake(w); })) return true;
      // Take the field back unless the sender finished meanwhile.
      for (;;) {
        if (cur & (In::kSent | In::kTxClosed)) return budget_.ready_on_recheck(h);
        if (in_->state.compare_exchange(cur, cur & ~In::kRxWaker, Order::acq_rel, Order::acquire)) break;
      }
    }
    if (cur & (In::kSent | In::kTxClosed)) return budget_.ready_on_recheck(h);
    in_->rx_waker.with_mut([&w](Waker& mine) { mine = std::move(w); });
    cur = in_->state.fetch_or(In::kRxWaker, Order::acq_rel);
    if (cur & (In::kSent | In::kTxClosed)) return budget_.ready_on_recheck(h);
    return true;
  }
  T await_resume() {
    // acquire pairs with send()'s acq_rel fetch_or of kSent, which published `value`.
    std::uint32_t s = in_->state.load(Order::acquire);
    if (!(s & In::kSent)) throw RecvError();
    return in_->value.with_mut([](std::optional<T>& v) { return std::move(*v); });
  }

 private:
  void drop() {
    if (auto* in = std::exchange(in_, nullptr)) {
      // release pairs with the sender's acquire loads of kRxClosed (send(), is_closed()).
      in->state.fetch_or(In::kRxClosed, Order::acq_rel);
      in->release();
    }
  }
  In* in_ = nullptr;
  CoopBudget budget_;
};

// channel makes a connected sender and receiver.
template <class T>
std::pair<Sender<T>, Receiver<T>> channel() {
  auto* in = new detail::Inner<T>();
  return {Sender<T>(in), Receiver<T>(in)};
}

}  // namespace oneshot

// ---------------------------------------------------------------- Notify

// Notify wakes tasks: notify_one wakes one waiter or stores one permit for the
// next; notify_waiters wakes every current waiter and stores nothing.
class Notify {
 public:
  Notify() = default;
  Notify(const Notify&) = delete;
  Notify& operator=(const Notify&) = delete;

  void notify_one() {
    Waker w;
    {
      std::scoped_lock lock(mu_);
      detail::Waiter* n = waiters_.pop_front();
      if (n == nullptr) {
        permit_ = true;
        return;
      }
      n->notified = true;
      w = std::move(n->waker);
    }
    w.wake();
  }
  void notify_waiters() {
    std::deque<Waker> ws;
    {
      std::scoped_lock lock(mu_);
      while (detail::Waiter* n = waiters_.pop_front()) {
        n->notified = true;
        n->by_all = true;
        ws.push_back(std::move(n->waker));
      }
    }
    for (Waker& w : ws) w.wake();
  }

  // Notified is the awaiter of notified(); destroying it while queued dequeues it,
  // and hands a notify_one it received but did not consume to the next waiter.
  class Notified {
   public:
    explicit Notified(Notify& n) : n_(n) {}
    Notified(const Notified&) = delete;
    ~Notified() {
      bool pass_on = false;
      {
        std::scoped_lock lock(n_.mu_);
        if (node_.linked) n_.waiters_.remove(&node_);
        // Notified but never resumed: a notify_one nobody saw goes to the next
        // (a broadcast reached every waiter already).
        pass_on = (node_.notified && !node_.by_all && !consumed_) || (consumed_ && !resumed_);
      }
      if (pass_on) n_.notify_one();
    }
    bool await_ready() {
      {
        std::scoped_lock lock(n_.mu_);
        if (!n_.permit_) return false;
        n_.permit_ = false;
        consumed_ = true;
      }
      // The permit is ours; with the budget spent, the task yields before it
      // goes on (a permit that is always there cannot starve the worker).
      return budget_.proceed();
    }
    bool await_suspend(std::coroutine_handle<> h) {
      if (budget_.yield_if_spent(h)) return true;
      static constexpr LeafKind kNotified{"Notify::notified", &weft::detail::Waiter::is_notified};
      Waker w = suspend_current(h, kNotified, &node_);
      {
        std::scoped_lock lock(n_.mu_);
        if (!n_.permit_) {
          node_.waker = std::move(w);
          n_.waiters_.push_back(&node_);
          return true;
        }
        n_.permit_ = false;
        consumed_ = true;
      }
      return budget_.ready_on_recheck(h);
    }
    void await_resume() {
      std::scoped_lock lock(n_.mu_);
      // A spurious resume (the task was woken for another reason) still counts
      // as notified only if a notification arrived.
      if (node_.linked) {
        n_.waiters_.remove(&node_);
        node_.waker = Waker();
      }
      consumed_ = true;
      resumed_ = true;
    }

   private:
    Notify& n_;
    [[no_unique_address]] detail::Waiter node_;  // the flags below share its last word
    bool consumed_ = false;
    bool resumed_ = false;
    CoopBudget budget_;
  };

  Notified notified() { return Notified(*this); }

 private:
  Mutex mu_;
  detail::WaiterList waiters_;  // guarded by mu_
  bool permit_ = false;         // guarded by mu_
};

// ---------------------------------------------------------------- Mutex

// AsyncMutex is a fair (FIFO) mutex for tasks: co_await m.lock() gives a Guard.
class AsyncMutex {
 public:
  class Guard {
   public:
    Guard() = default;
    explicit Guard(AsyncMutex* m) : m_(m) {}
    Guard(Guard&& o) noexcept : m_(std::exchange(o.m_, nullptr)) {}
    Guard& operator=(Guard&& o) noexcept {
      if (this != &o) {
        unlock();
        m_ = std::exchange(o.m_, nullptr);
      }
      return *this;
    }
    ~Guard() { unlock(); }
    void unlock() {
      if (auto* m = std::exchange(m_, nullptr)) m->release();
    }
    bool owns_lock() const { return m_ != nullptr; }

   private:
    AsyncMutex* m_ = nullptr;
  };

  class LockAwaiter {
   public:
    explicit LockAwaiter(AsyncMutex& m) : m_(m) {}
    LockAwaiter(const LockAwaiter&) = delete;
    ~LockAwaiter() {
      bool held = false;
      {
        std::scoped_lock lock(m_.mu_);
        if (node_.linked) m_.waiters_.remove(&node_);
        held = (node_.notified || taken_) && !guarded_;
      }
      if (held) m_.release();  // we were given (or took) the lock but never returned a guard
    }
    bool await_ready() {
      {
        std::scoped_lock lock(m_.mu_);
        if (m_.locked_ || !m_.waiters_.empty()) return false;
        m_.locked_ = true;
        taken_ = true;
      }
      // The lock is ours; with the budget spent, the task yields holding it
      // (a lock that is always free cannot starve the worker).
      return budget_.proceed();
    }
    bool await_suspend(std::coroutine_handle<> h) {
      if (budget_.yield_if_spent(h)) return true;
      static constexpr LeafKind kLock{"AsyncMutex::lock", &weft::detail::Waiter::is_notified};
      Waker w = suspend_current(h, kLock, &node_);
      {
        std::scoped_lock lock(m_.mu_);
        if (m_.locked_) {
          node_.waker = std::move(w);
          m_.waiters_.push_back(&node_);
          return true;
        }
        m_.locked_ = true;
        taken_ = true;
      }
      return budget_.ready_on_recheck(h);
    }
    Guard await_resume() {
      std::scoped_lock lock(m_.mu_);
      WEFT_CHECK(taken_ || node_.notified);  // resumed without the lock
      taken_ = true;
      guarded_ = true;
      return Guard(&m_);
    }

   private:
    AsyncMutex& m_;
    [[no_unique_address]] detail::Waiter node_;  // the flags below share its last word
    bool taken_ = false;
    bool guarded_ = false;  // the guard was returned: it releases the lock
    CoopBudget budget_;
  };

  LockAwaiter lock() { return LockAwaiter(*this); }

  // try_lock takes the lock if it is free.
  std::optional<Guard> try_lock() {
    std::scoped_lock lock(mu_);
    if (locked_) return std::nullopt;
    locked_ = true;
    return Guard(this);
  }

 private:
  // release hands the lock to the first waiter, or frees it.
  void release() {
    Waker w;
    {
      std::scoped_lock lock(mu_);
      WEFT_ASSERT(locked_);
      detail::Waiter* n = waiters_.pop_front();
      if (n == nullptr) {
        locked_ = false;
        return;
      }
      n->notified = true;  // ownership passes directly; locked_ stays true
      w = std::move(n->waker);
    }
    w.wake();
  }

  Mutex mu_;
  detail::WaiterList waiters_;  // guarded by mu_
  bool locked_ = false;         // guarded by mu_
};

// ---------------------------------------------------------------- mpsc

namespace mpsc {

namespace detail {

// Chan is a channel's state, shared by its senders and its receiver; from the
// task pool (PoolNew), like a oneshot's.
template <class T>
struct Chan : weft::detail::PoolNew {
  // Counted for the leak check (Held::allocation); freed by the last release().
  explicit Chan(std::size_t cap) : capacity(cap) { Platform::note_hold(Held::allocation, sizeof(Chan)); }
  ~Chan() { Platform::note_release(Held::allocation, sizeof(Chan)); }
  Chan(const Chan&) = delete;
  Chan& operator=(const Chan&) = delete;
  Mutex mu;
  std::deque<T> buffer;                // guarded by mu
  const std::size_t capacity;
  weft::detail::WaiterList senders;    // guarded by mu: senders waiting for room
  // Room promised to senders woken for it and not yet used (the room protocol at
  // SendAwaiter); buffer.size() + reserved <= capacity.
  std::size_t reserved = 0;            // guarded by mu
  weft::detail::Waiter* receiver = nullptr;  // guarded by mu
  std::size_t tx_count = 1;            // guarded by mu
  bool rx_closed = false;              // guarded by mu
  Atomic<std::uint32_t> refs{2};

  void release() {
    // acq_rel: the release publishes this handle's last use of the channel; the
    // acquire of the last one to drop pairs with every other handle's release before delete.
    if (refs.fetch_sub(1, Order::acq_rel) == 1) delete this;
  }
};

}  // namespace detail

template <class T>
class Receiver;

// Sender is copyable; the channel closes for the receiver when the last one drops.
template <class T>
class Sender {
  using Ch = detail::Chan<T>;

 public:
  Sender() = default;
  explicit Sender(Ch* c) : c_(c) {}
  Sender(const Sender& o) : c_(o.c_) {
    if (c_) {
      std::scoped_lock lock(c_->mu);
      ++c_->tx_count;
      // relaxed: the copy holds a reference already (o's), so the count cannot reach
      // zero meanwhile; nothing is published (release() orders the drop).
      c_->refs.fetch_add(1, Order::relaxed);
    }
  }
  Sender(Sender&& o) noexcept : c_(std::exchange(o.c_, nullptr)) {}
  Sender& operator=(Sender o) noexcept {
    std::swap(c_, o.c_);
    return *this;
  }
  ~Sender() { drop(); }

  // try_send enqueues v if there is room; otherwise gives it back.
  std::optional<T> try_send(T v) {
    Waker w;
    {
      std::scoped_lock lock(c_->mu);
      if (c_->rx_closed || c_->buffer.size() + c_->reserved >= c_->capacity) return std::optional<T>(std::move(v));
      c_->buffer.push_back(std::move(v));
      w = take_receiver();
    }
    w.wake();
    return std::nullopt;
  }

  // SendAwaiter waits for room; co_await gives false if the receiver is gone.
  // The room protocol, all under mu (a sender that barged in once took the
  // room a woken sender was woken for, and the woken one failed its check):
  //  Step R1. A sender takes room only if buffer.size() + reserved < capacity.
  //  Step R2. Without room it queues (senders) and sleeps.
  //  Step R3. The receiver that takes a value wakes the first queued sender and
  //           reserves the room for it (reserved + 1).
  //  Step R4. The woken sender uses its reservation (reserved - 1, then push):
  //           room is there, whoever came since.
  //  Step R5. A woken sender that goes away unsent hands its reservation to the
  //           next queued sender, or gives it back (reserved - 1).
  //  Step R6. Closing the receiver wakes every queued sender and drops every
  //           reservation (reserved = 0): they find it closed.
  class SendAwaiter {
   public:
    SendAwaiter(Ch* c, T v) : c_(c), v_(std::move(v)) {}
    SendAwaiter(const SendAwaiter&) = delete;
    ~SendAwaiter() {
      bool pass_on = false;
      {
        std::scoped_lock lock(c_->mu);
        if (node_.linked) c_->senders.remove(&node_);
        pass_on = node_.notified && !done_;
      }
      if (pass_on) wake_next_sender(c_);
    }
    bool await_ready() { return try_push(); }  // Step R1
    bool await_suspend(std::coroutine_handle<> h) {
      static constexpr LeafKind kSend{"mpsc::Sender::send", &weft::detail::Waiter::is_notified};
      Waker w = suspend_current(h, kSend, &node_);
      Waker rx;
      {
        std::scoped_lock lock(c_->mu);
        if (c_->rx_closed) {
          done_ = true;
          ok_ = false;
          return false;
        }
        if (c_->buffer.size() + c_->reserved < c_->capacity) {  // Step R1
          c_->buffer.push_back(std::move(*v_));
          done_ = true;
          rx = Sender::take_receiver(c_);
        } else {  // Step R2
          node_.notified = false;
          node_.waker = std::move(w);
          c_->senders.push_back(&node_);
          return true;
        }
      }
      rx.wake();
      return false;
    }
    bool await_resume() {
      if (!done_ && !try_push()) {
        // Woken without room (the receiver closed, or a spurious wake).
        WEFT_CHECK(done_);
      }
      return ok_;
    }

   private:
    bool try_push() {
      Waker rx;
      {
        std::scoped_lock lock(c_->mu);
        if (node_.linked) c_->senders.remove(&node_);
        if (c_->rx_closed) {
          done_ = true;
          ok_ = false;
          return true;
        }
        const bool reserved = node_.notified;
        WEFT_ASSERT(!reserved || (c_->reserved > 0 && c_->buffer.size() < c_->capacity));
        if (!reserved && c_->buffer.size() + c_->reserved >= c_->capacity) return false;  // Step R1
        // A push that throws leaves the reservation with this sender, whose
        // destructor hands it on (Step R5); taken first, it would be lost room
        // that no queued sender was woken for.
        c_->buffer.push_back(std::move(*v_));
        if (reserved) {  // Step R4: the room reserved for this sender
          node_.notified = false;
          --c_->reserved;
        }
        done_ = true;
        rx = Sender::take_receiver(c_);
      }
      rx.wake();
      return true;
    }
    Ch* c_;
    std::optional<T> v_;
    [[no_unique_address]] weft::detail::Waiter node_;  // the flags below share its last word
    bool done_ = false;
    bool ok_ = true;
  };

  SendAwaiter send(T v) { return SendAwaiter(c_, std::move(v)); }

 private:
  friend class Receiver<T>;
  Waker take_receiver() { return take_receiver(c_); }
  static Waker take_receiver(Ch* c) {
    if (weft::detail::Waiter* r = std::exchange(c->receiver, nullptr)) {
      Platform::note_release(Held::waiter, 0);  // the receiver slot is a wait list of one
      r->notified = true;
      r->linked = false;
      return std::move(r->waker);
    }
    return Waker();
  }
  // wake_next_sender is Step R5: the reservation of a woken sender that went
  // away unsent goes to the next queued sender, or back.
  static void wake_next_sender(Ch* c) {
    Waker w;
    {
      std::scoped_lock lock(c->mu);
      if (c->rx_closed) return;  // Step R6 dropped every reservation
      if (weft::detail::Waiter* s = c->senders.pop_front()) {
        s->notified = true;
        w = std::move(s->waker);
      } else {
        --c->reserved;
      }
    }
    w.wake();
  }
  void drop() {
    if (Ch* c = std::exchange(c_, nullptr)) {
      Waker w;
      {
        std::scoped_lock lock(c->mu);
        if (--c->tx_count == 0) w = take_receiver(c);
      }
      w.wake();
      c->release();
    }
  }
  Ch* c_ = nullptr;
};

// Receiver takes values in order: co_await rx.recv() gives nullopt once every
// sender is gone and the buffer is empty.
template <class T>
class Receiver {
  using Ch = detail::Chan<T>;

 public:
  Receiver() = default;
  explicit Receiver(Ch* c) : c_(c) {}
  Receiver(Receiver&& o) noexcept : c_(std::exchange(o.c_, nullptr)) {}
  Receiver& operator=(Receiver&& o) noexcept {
    if (this != &o) {
      drop();
      c_ = std::exchange(o.c_, nullptr);
    }
    return *this;
  }
  ~Receiver() { drop(); }

  // try_recv takes a value if one is buffered.
  std::optional<T> try_recv() {
    Waker w;
    std::optional<T> out;
    {
      std::scoped_lock lock(c_->mu);
      if (c_->buffer.empty()) return std::nullopt;
      out.emplace(std::move(c_->buffer.front()));
      c_->buffer.pop_front();
      w = wake_sender_locked();
    }
    w.wake();
    return out;
  }

  class RecvAwaiter {
   public:
    explicit RecvAwaiter(Ch* c) : c_(c) {}
    RecvAwaiter(const RecvAwaiter&) = delete;
    ~RecvAwaiter() {
      std::scoped_lock lock(c_->mu);
      if (c_->receiver == &node_) clear_receiver();
    }
    bool await_ready() {
      {
        std::scoped_lock lock(c_->mu);
        if (c_->buffer.empty() && c_->tx_count != 0) return false;
      }
      // Ready; a single receiver means it stays ready until we take it.
      return budget_.proceed() && try_take();
    }
    bool await_suspend(std::coroutine_handle<> h) {
      if (budget_.yield_if_spent(h)) return true;
      static constexpr LeafKind kRecv{"mpsc::Receiver::recv", &weft::detail::Waiter::is_notified};
      Waker w = suspend_current(h, kRecv, &node_);
      {
        std::scoped_lock lock(c_->mu);
        if (c_->buffer.empty() && c_->tx_count != 0) {
          node_.notified = false;
          node_.waker = std::move(w);
          WEFT_ASSERT(c_->receiver == nullptr);
          c_->receiver = &node_;
          Platform::note_hold(Held::waiter, 0);  // given back when the slot is cleared
          return true;
        }
      }
      return budget_.ready_on_recheck(h);
    }
    std::optional<T> await_resume() {
      if (!out_ && !closed_) try_take();
      return std::move(out_);
    }

   private:
    // clear_receiver empties the receiver slot, which holds this awaiter (under mu).
    void clear_receiver() {
      c_->receiver = nullptr;
      Platform::note_release(Held::waiter, 0);
    }
    bool try_take() {
      Waker w;
      {
        std::scoped_lock lock(c_->mu);
        if (c_->receiver == &node_) clear_receiver();
        if (c_->buffer.empty()) {
          closed_ = c_->tx_count == 0;
          return closed_;
        }
        out_.emplace(std::move(c_->buffer.front()));
        c_->buffer.pop_front();
        w = take_sender(c_);
      }
      w.wake();
      return true;
    }
    Ch* c_;
    std::optional<T> out_;
    [[no_unique_address]] weft::detail::Waiter node_;  // the flags below share its last word
    bool closed_ = false;
    CoopBudget budget_;
  };

  RecvAwaiter recv() { return RecvAwaiter(c_); }

 private:
  // take_sender is Step R3 (under mu, after taking a value).
  static Waker take_sender(Ch* c) {
    if (weft::detail::Waiter* s = c->senders.pop_front()) {
      s->notified = true;
      ++c->reserved;
      return std::move(s->waker);
    }
    return Waker();
  }
  Waker wake_sender_locked() { return take_sender(c_); }
  void drop() {
    if (Ch* c = std::exchange(c_, nullptr)) {
      std::deque<Waker> ws;
      std::deque<T> discard;
      {
        std::scoped_lock lock(c->mu);
        c->rx_closed = true;
        discard.swap(c->buffer);
        while (weft::detail::Waiter* s = c->senders.pop_front()) {  // Step R6
          s->notified = true;
          ws.push_back(std::move(s->waker));
        }
        c->reserved = 0;
      }
      for (Waker& w : ws) w.wake();
      c->release();
    }
  }
  Ch* c_ = nullptr;
};

// channel makes a bounded channel holding at most capacity values.
template <class T>
std::pair<Sender<T>, Receiver<T>> channel(std::size_t capacity) {
  WEFT_CHECK(capacity > 0);
  auto* c = new detail::Chan<T>(capacity);
  return {Sender<T>(c), Receiver<T>(c)};
}

}  // namespace mpsc

WEFT_NS_END
