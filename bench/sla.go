package main

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// benchSLA: n SLA resolution deadlines spread over 30-90 seconds ahead, breach lateness
// p50/p99/max, next to n bare Temporal timers spread the same way and running at the same time
// on the same worker. Target: breach p99 under 1 s.
func (s *scale) benchSLA(n int) error {
	ids, err := s.createTickets(n, map[string]any{"subject": "SLA bench"})
	if err != nil {
		return err
	}
	spread := func() []time.Time {
		dues := make([]time.Time, n)
		for i := range dues {
			dues[i] = time.Now().Add(30*time.Second + time.Duration(rand.IntN(60_000))*time.Millisecond).UTC()
		}
		return dues
	}
	var bare []time.Duration
	var bareErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		bare, bareErr = s.bareTimers(spread(), nil)
	}()
	dues := spread()
	if err := s.setDues(ids, dues); err != nil {
		return err
	}
	last := dues[0]
	for _, d := range dues {
		if d.After(last) {
			last = d
		}
	}
	fmt.Printf("sla: %d tickets and %d bare timers, deadlines spread over 30-90 s, waiting for the last (%s); backend: %s\n",
		n, n, time.Until(last).Round(time.Second), backend)
	wg.Wait()
	if bareErr != nil {
		return bareErr
	}
	time.Sleep(max(time.Until(last), 0) + 2*time.Second)
	late, err := s.waitBreaches(ids, 30*time.Second)
	if err != nil {
		return err
	}
	if len(late) == 0 {
		return fmt.Errorf("no breach was recorded")
	}
	lateness(bare).print("baseline: bare timers", fmt.Sprintf("(%d timers)", len(bare)))
	late.print("SLA breaches", fmt.Sprintf("(%d of %d breaches recorded)", len(late), n))
	verdict := "meets"
	if late.pct(0.99) >= time.Second || len(late) < n {
		verdict = "MISSES"
	}
	fmt.Printf("  breach p99 %.0f ms (%s the 1 s target)\n\n", ms(late.pct(0.99)), verdict)
	return nil
}

// parallel runs f(0..n-1) on `workers` goroutines.
func parallel(workers, n int, f func(i int)) {
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				f(i)
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}
