package bad

import (
	crand "crypto/rand"
	"maps"
	"math/rand/v2"
	"slices"
	clock "time"
)

func violations(m map[string]int, r *rand.Rand) {
	go func() {}()         // goroutine
	ch := make(chan int)   // channel
	_ = clock.Now()        // wallclock, through a renamed import
	clock.Sleep(1)         // wallclock
	_ = rand.IntN(3)       // globalrand
	_, _ = crand.Read(nil) // globalrand
	for k := range m {     // maprange
		_ = k
	}
	_ = ch
	for range maps.Keys(m) { // maprange
	}
	now := clock.Now // wallclock: read later, still the wall clock
	_ = now
	keys := slices.Collect(maps.Keys(m)) // maprange: collected in map order
	_ = keys
}

func allowed(m map[string]int, r *rand.Rand) {
	_ = r.IntN(3)                   // a seeded stream: fine
	_ = rand.New(rand.NewPCG(1, 2)) // constructors: fine
	_ = clock.Duration(5)           // not a clock read
	time := struct{ Now func() int }{func() int { return 0 }}
	_ = time.Now() // a local variable, not the package
	//lint:allow maprange summing is order-independent
	for range m {
	}
	for range m { //lint:allow maprange also on the same line
	}
	//lint:allow maprange
	for range m { // the exemption above gives no reason
	}
	crand.Reader = nil                      // the kernel does this on purpose
	for range slices.Sorted(maps.Keys(m)) { // sorted first: fine
	}
}
