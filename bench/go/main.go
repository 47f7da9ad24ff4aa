// Command sluice-bench-go is the Go load generator of `npm run bench`: it
// drives one workload against a running broker through the Go client (mode
// batched through its generated PublishStream stub, the others through its
// API) and prints one JSON line, {"mode", "count", "seconds", "msgPerSec"},
// on stdout.
// The TypeScript bench builds it, runs it once per run and parses that line;
// it is the Sluice side of a like-for-like comparison with `nats bench`.
//
//	sluice-bench-go -addr 127.0.0.1:50051 -mode batched -topic t -size 100 -count 1000000
//	sluice-bench-go -addr 127.0.0.1:50051 -mode send-batch -topic t -size 100 -count 1000000
//	sluice-bench-go -addr 127.0.0.1:50051 -mode unary -topic t -size 100 -callers 64 -seconds 3
//	sluice-bench-go -addr 127.0.0.1:50051 -mode publisher -topic t -size 100 -callers 64 -seconds 3
//	sluice-bench-go -addr 127.0.0.1:50051 -mode consume -topic t -group g -streams 4 -count 1000000
//
// The topic must exist; consume needs a backlog of at least -count messages
// and a group name that has not been used. Errors go to stderr, with exit
// status 1.
package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	sluice "github.com/sluice-broker/sluice/clients/go"
)

// result is the line the TypeScript bench parses.
type result struct {
	Mode      string  `json:"mode"`
	Count     int64   `json:"count"`
	Seconds   float64 `json:"seconds"`
	MsgPerSec float64 `json:"msgPerSec"`
}

func main() {
	addr := flag.String("addr", "127.0.0.1:50051", "broker address")
	mode := flag.String("mode", "", "batched, send-batch, unary, publisher or consume")
	topic := flag.String("topic", "", "topic (must exist)")
	group := flag.String("group", "", "consumer group (consume; a new one)")
	size := flag.Int("size", 100, "payload bytes (publish)")
	count := flag.Int64("count", 1_000_000, "messages to publish (batched, send-batch) or to consume")
	seconds := flag.Float64("seconds", 3, "length of the run (unary, publisher)")
	callers := flag.Int("callers", 64, "concurrent callers (unary, publisher)")
	streams := flag.Int("streams", 4, "subscriptions of the group (consume)")
	ids := flag.Bool("ids", true, "give every published message an id (the broker dedupes them)")
	flag.Parse()
	if *topic == "" || (*mode == "consume" && *group == "") {
		fail(fmt.Errorf("-topic (and, for consume, -group) are required"))
	}

	client, err := sluice.Dial(*addr)
	if err != nil {
		fail(err)
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	// Connect (and check the topic) before the clock starts, as the
	// TypeScript workloads run on an already connected client.
	if _, err := client.GetTopic(ctx, *topic); err != nil {
		fail(err)
	}

	var res result
	switch *mode {
	case "batched":
		res, err = publishBatched(ctx, client, *topic, payloads(*size), *count, idSource(*ids))
	case "send-batch":
		res, err = publishSendBatch(ctx, client, *topic, payloads(*size), *count, *ids)
	case "unary":
		res, err = publishUnary(ctx, client, *topic, payloads(*size), *callers, time.Duration(*seconds*float64(time.Second)), idSource(*ids))
	case "publisher":
		res, err = publishViaPublisher(ctx, client, *topic, payloads(*size), *callers, time.Duration(*seconds*float64(time.Second)), *ids)
	case "consume":
		res, err = consumeAck(ctx, client, *topic, *group, *streams, *count)
	default:
		err = fmt.Errorf("-mode must be batched, send-batch, unary, publisher or consume; got %q", *mode)
	}
	if err != nil {
		fail(err)
	}
	res.Mode = *mode
	res.MsgPerSec = float64(res.Count) / res.Seconds
	if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
		fail(err)
	}
}

// payloads returns 1024 distinct random payloads of size bytes, as the
// TypeScript workloads use (random, so LevelDB's compression flatters no one).
func payloads(size int) [][]byte {
	out := make([][]byte, 1024)
	for i := range out {
		out[i] = make([]byte, size)
		_, _ = rand.Read(out[i])
	}
	return out
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "sluice-bench-go: %v\n", err)
	os.Exit(1)
}
