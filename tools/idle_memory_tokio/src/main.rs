// tokio_idle_memory: resident bytes per idle task on Tokio, the twin of weft's
// tools/idle_memory.cpp. N tasks each await one shared Notify; the resident set
// (VmRSS) is read before the first spawn and once every task waits, and the
// difference divided by N is what an idle task costs.
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::Notify;

// resident_bytes reads VmRSS from /proc/self/status; 0 when it cannot be read.
fn resident_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    for line in status.lines() {
        if let Some(rest) = line.strip_prefix("VmRSS:") {
            let kib: u64 = rest.trim().trim_end_matches("kB").trim().parse().unwrap_or(0);
            return kib * 1024;
        }
    }
    0
}

fn fail(msg: &str) -> ! {
    eprintln!("tokio_idle_memory: {}", msg);
    std::process::exit(2);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mut tasks: u64 = 1_000_000;
    let mut config = String::from("ct");
    let mut i = 1;
    while i < args.len() {
        let value = args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--tasks" => match value.parse::<u64>() {
                Ok(n) if (1..=100_000_000).contains(&n) => tasks = n,
                _ => fail(&format!("--tasks '{}': expected an integer from 1 to 100000000", value)),
            },
            "--config" => match value.as_str() {
                "ct" | "1" | "2" | "4" => config = value.clone(),
                _ => fail(&format!("--config '{}': expected ct, 1, 2 or 4", value)),
            },
            other => fail(&format!("unknown argument '{}' (expected --tasks N, --config ct|1|2|4)", other)),
        }
        i += 2;
    }
    let rt = if config == "ct" {
        tokio::runtime::Builder::new_current_thread().build()
    } else {
        let workers: usize = config.parse().unwrap();
        tokio::runtime::Builder::new_multi_thread().worker_threads(workers).build()
    }
    .unwrap_or_else(|e| fail(&format!("runtime: {}", e)));
    let notify = Arc::new(Notify::new());
    let waiting = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicU64::new(0));
    let (before, during) = rt.block_on(async {
        tokio::task::yield_now().await; // the runtime and this thread's first allocations are made
        let before = resident_bytes();
        for _ in 0..tasks {
            let (n, w, d) = (notify.clone(), waiting.clone(), done.clone());
            tokio::spawn(async move {
                w.fetch_add(1, Ordering::Relaxed);
                n.notified().await; // registers in the same poll as the count above
                d.fetch_add(1, Ordering::Relaxed);
            });
        }
        // Every task has run to its wait once the count is complete.
        let mut pass: u64 = 0;
        while waiting.load(Ordering::Relaxed) < tasks {
            pass += 1;
            if pass > 100_000_000 {
                fail("the tasks never all waited");
            }
            tokio::task::yield_now().await;
        }
        let during = resident_bytes();
        notify.notify_waiters();
        while done.load(Ordering::Relaxed) < tasks {
            pass += 1;
            if pass > 200_000_000 {
                fail("the tasks never all finished");
            }
            tokio::task::yield_now().await;
        }
        (before, during)
    });
    if before == 0 || during == 0 {
        fail("/proc/self/status: could not read VmRSS");
    }
    let per_task = (during as f64 - before as f64) / tasks as f64;
    println!(
        "{{\"runtime\": \"tokio\", \"config\": \"{}\", \"tasks\": {}, \"rss_before\": {}, \"rss_waiting\": {}, \"bytes_per_task\": {:.1}}}",
        config, tasks, before, during, per_task
    );
}
