package kvraft

import (
	"fmt"

	"6.5840/labrpc"
	"6.5840/raft"
)

// Example builds a three-server service on a labrpc network and uses it
// through a Clerk. Each server answers two services under one name: its
// KVServer (for Clerks) and its Raft peer (for the other peers).
func Example() {
	const n = 3
	net := labrpc.MakeNetwork()
	defer net.Cleanup()

	servers := make([]*KVServer, n)
	for i := 0; i < n; i++ {
		// Server i's ends to every server's Raft peer (itself included).
		peers := make([]*labrpc.ClientEnd, n)
		for j := 0; j < n; j++ {
			name := fmt.Sprintf("peer-%d-%d", i, j)
			peers[j] = net.MakeEnd(name)
			net.Connect(name, j)
			net.Enable(name, true)
		}
		servers[i] = StartKVServer(peers, i, raft.MakePersister(), 1000)
		srv := labrpc.MakeServer()
		srv.AddService(labrpc.MakeService(servers[i]))        // "KVServer.Get", "KVServer.PutAppend"
		srv.AddService(labrpc.MakeService(servers[i].Raft())) // "Raft.AppendEntries", ...
		net.AddServer(i, srv)
	}
	defer func() {
		for _, kv := range servers {
			kv.Kill()
		}
	}()

	// A Clerk with its own end to each server.
	ends := make([]*labrpc.ClientEnd, n)
	for j := 0; j < n; j++ {
		name := fmt.Sprintf("clerk-%d", j)
		ends[j] = net.MakeEnd(name)
		net.Connect(name, j)
		net.Enable(name, true)
	}
	ck := MakeClerk(ends)

	ck.Put("greeting", "hello")
	ck.Append("greeting", ", world")
	fmt.Println(ck.Get("greeting"))
	fmt.Printf("%q\n", ck.Get("missing"))
	// Output:
	// hello, world
	// ""
}
