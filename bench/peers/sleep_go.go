// bench/peers/sleep_go.go — 100k concurrent sleeps with goroutines (bench_core's
// BM_sleep_100k in Go). A single file with no imports outside the standard library,
// so `go run` / `go build` need no module and download nothing.
//
// Prints one JSON line, as the other peers do:
//
//	{"peer": "go", "workload": "sleep_100000", "wall_s": ..., "bytes_per_task": ...}
//
// wall_s is the best of -reps runs; bytes_per_task is the growth of the memory the
// runtime holds for stacks and heap (runtime.MemStats StackInuse + HeapInuse) while
// every goroutine sleeps, divided by the goroutines, measured in one extra run made
// first.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"
)

func spawnSleepers(n int, d time.Duration, whileAsleep func()) {
	var wg sync.WaitGroup
	var started sync.WaitGroup
	wg.Add(n)
	started.Add(n)
	for i := 0; i < n; i++ {
		go func() {
			started.Done()
			time.Sleep(d)
			wg.Done()
		}()
	}
	if whileAsleep != nil {
		started.Wait()
		whileAsleep()
	}
	wg.Wait()
}

func inUse() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.StackInuse + m.HeapInuse
}

func main() {
	reps := flag.Int("reps", 3, "timed runs; the best is printed")
	n := flag.Int("n", 100000, "goroutines")
	flag.Parse()
	const d = 100 * time.Millisecond

	// Bytes first, in a process that has run nothing yet: later runs would find
	// stacks left in the runtime's pools and look cheaper than a first burst is.
	runtime.GC()
	before := inUse()
	var asleep uint64
	spawnSleepers(*n, d, func() { asleep = inUse() })
	bytes := 0.0
	if asleep > before {
		bytes = float64(asleep-before) / float64(*n)
	}

	best := -1.0
	for r := 0; r < *reps; r++ {
		runtime.GC()
		t0 := time.Now()
		spawnSleepers(*n, d, nil)
		s := time.Since(t0).Seconds()
		if best < 0 || s < best {
			best = s
		}
	}

	out, err := json.Marshal(map[string]interface{}{
		"peer": "go", "workload": "sleep_100000",
		"ns_per_item": best * 1e9 / float64(*n), "wall_s": best, "bytes_per_task": bytes,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(string(out))
}
