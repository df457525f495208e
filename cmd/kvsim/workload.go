package main

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"6.5840/kvraft"
	"6.5840/models"
	"6.5840/porcupine"
)

// Operation kinds, as models.KvInput.Op numbers them.
const (
	opGet    = 0
	opPut    = 1
	opAppend = 2
)

var opNames = [...]string{opGet: "get", opPut: "put", opAppend: "append"}

// history collects the operations of all clients, with call and return
// times on one clock.
type history struct {
	start time.Time

	mu   sync.Mutex
	ops  []porcupine.Operation
	open []porcupine.Operation // called, not (yet) returned; indexed by client

	done atomic.Int64 // completed operations, for the status line
}

func newHistory(clients int) *history {
	return &history{start: time.Now(), open: make([]porcupine.Operation, clients)}
}

func (h *history) now() int64 { return int64(time.Since(h.start)) }

// call records that client began an operation.
func (h *history) call(client int, in models.KvInput) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.open[client] = porcupine.Operation{ClientId: client, Input: in, Call: h.now(), Return: -1}
}

// ret records that client's operation returned value.
func (h *history) ret(client int, value string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	op := h.open[client]
	op.Output = models.KvOutput{Value: value}
	op.Return = h.now()
	h.open[client] = porcupine.Operation{}
	h.ops = append(h.ops, op)
	h.done.Add(1)
}

// finish returns the completed operations and the ones still open. An
// open operation may or may not have taken effect: a Put or Append is
// returned in openWrites with a return time after everything else (so the
// checker may place it anywhere after its call); an open Get changes
// nothing and constrains nothing, so it is only counted.
func (h *history) finish() (completed, openWrites []porcupine.Operation, open int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	completed = append([]porcupine.Operation(nil), h.ops...)
	end := h.now() + 1
	for _, op := range h.open {
		if op.Input == nil {
			continue
		}
		open++
		if op.Input.(models.KvInput).Op == opGet {
			continue
		}
		op.Output = models.KvOutput{}
		op.Return = end
		openWrites = append(openWrites, op)
	}
	return completed, openWrites, open
}

// client runs one Clerk's workload until stop is closed: a random mix of
// Gets, Puts and Appends on random keys, each value unique in the run.
type client struct {
	id    int
	clerk *kvraft.Clerk
	rng   *rand.Rand
	keys  int
	hist  *history
	seq   int

	// staleReads makes this client, once, answer a Get with a value it
	// knows to be stale. Only tests set it, to prove that the checker
	// catches a broken service.
	staleReads bool
}

func (c *client) run(stop <-chan struct{}) {
	for {
		select {
		case <-stop:
			return
		default:
		}
		if c.staleReads {
			c.staleReads = false
			c.serveStaleRead()
			continue
		}
		key := fmt.Sprint(c.rng.IntN(c.keys))
		switch r := c.rng.IntN(10); {
		case r < 4:
			c.get(key)
		case r < 7:
			c.put(key, c.nextValue())
		default:
			c.append(key, c.nextValue())
		}
	}
}

// nextValue returns a value no other operation of the run writes.
func (c *client) nextValue() string {
	c.seq++
	return fmt.Sprintf("c%d.%d;", c.id, c.seq)
}

func (c *client) get(key string) string {
	c.hist.call(c.id, models.KvInput{Op: opGet, Key: key})
	v := c.clerk.Get(key)
	c.hist.ret(c.id, v)
	return v
}

func (c *client) put(key, value string) {
	c.hist.call(c.id, models.KvInput{Op: opPut, Key: key, Value: value})
	c.clerk.Put(key, value)
	c.hist.ret(c.id, "")
}

func (c *client) append(key, value string) {
	c.hist.call(c.id, models.KvInput{Op: opAppend, Key: key, Value: value})
	c.clerk.Append(key, value)
	c.hist.ret(c.id, "")
}

// serveStaleRead reads a key, overwrites it with a fresh value, then reads
// it again but records the first value as the answer. No linearization
// explains that: the Put of a value never written before completed before
// the second Get began, and no later write can bring the old value back.
func (c *client) serveStaleRead() {
	key := "0"
	old := c.get(key)
	c.put(key, c.nextValue())
	c.hist.call(c.id, models.KvInput{Op: opGet, Key: key})
	c.clerk.Get(key)
	c.hist.ret(c.id, old)
}
