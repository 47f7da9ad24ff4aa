// Command producer publishes messages to a Sluice topic, creating the topic
// if it does not exist.
//
//	go run ./examples/producer -addr 127.0.0.1:50051 -topic demo -n 10
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"time"

	sluice "github.com/sluice-broker/sluice/clients/go"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:50051", "broker address")
	topic := flag.String("topic", "demo", "topic to publish to")
	partitions := flag.Uint("partitions", 1, "partitions, if the topic is created")
	n := flag.Int("n", 10, "how many messages")
	flag.Parse()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client, err := sluice.Dial(*addr)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	if _, err := client.CreateTopic(ctx, *topic, uint32(*partitions)); err != nil && status.Code(err) != codes.AlreadyExists {
		log.Fatal(err)
	}
	// A Publisher batches the messages into stream requests, gives each an
	// id, and resends what is unconfirmed after a reconnection (the broker
	// dedupes the resends).
	publisher, err := client.Publisher(*topic)
	if err != nil {
		log.Fatal(err)
	}
	msgs := make([]sluice.Message, *n)
	for i := range msgs {
		msgs[i] = sluice.Message{
			Key:     fmt.Sprintf("key-%d", i%3),
			Payload: fmt.Appendf(nil, "hello %d from Go", i),
			Headers: map[string]string{"producer": "go-example"},
		}
	}
	positions, err := publisher.SendBatch(ctx, msgs)
	if err != nil {
		log.Fatal(err)
	}
	if err := publisher.Close(ctx); err != nil {
		log.Fatal(err)
	}
	for i, p := range positions {
		fmt.Printf("published %q at partition %d offset %d\n", msgs[i].Payload, p.Partition, p.Offset)
	}
}
