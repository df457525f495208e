// Package models holds sequential specifications for the porcupine
// linearizability checker.
//
// KvModel specifies the key/value service of the kvraft lab: Get, Put and
// Append on string keys. A test records each Clerk call as a
// porcupine.Operation, with a KvInput as input and a KvOutput as output and
// the times of the call and the reply, then asks porcupine whether some
// order of the calls, each taking effect between its call and its reply,
// explains every value read:
//
//	ops = append(ops, porcupine.Operation{
//		ClientId: client,
//		Input:    models.KvInput{Op: models.OpAppend, Key: "k", Value: "x 3 12 y"},
//		Call:     start,
//		Output:   models.KvOutput{},
//		Return:   end,
//	})
//	...
//	res, info := porcupine.CheckOperationsVerbose(models.KvModel, ops, time.Second)
//	if res == porcupine.Illegal {
//		porcupine.VisualizePath(models.KvModel, info, "history.html")
//	}
//
// Keys are independent, so KvModel splits a history by key and porcupine
// checks each key on its own, in parallel. The state of a key is its value
// ("" before any write). A get is legal when it read exactly that value; a
// put replaces it; an append adds to its end. When an operation's output is
// missing (a call that never returned, in an event history), a get is legal
// whatever it would have read and a put or an append takes effect.
//
// Under the kvraft tests a key's value grows by thousands of appends, and
// the checker steps, hashes and compares states millions of times. So the
// state is not a string but an immutable list of the pieces appended since
// the last put, with its length and hash kept up to date (value.go): an
// append costs what it appends, a hash costs nothing, and two values are
// compared byte by byte only when their lengths and hashes agree.
// KvModel.Hash hands that hash to the checker; KvModel.DescribeState shows
// the value as a string. KvModel.StateAfter tells the checker that a get
// leaves the value it read and a put the value it wrote, which lets it
// prove a broken history Illegal from the last such operation before the
// break, rather than by retrying every order of everything before it.
package models
