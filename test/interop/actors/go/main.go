// Command go-actor is the Go side of the interop suite: it publishes or
// consumes with the clients/go package and reports each step as one JSON
// line on stdout.
//
//	go-actor publish -address A -topic T -count N -prefix P
//	go-actor consume -address A -topic T -group G [-count N] [-max-in-flight M]
//
// consume acks every message. It stops after -count messages, or (without
// -count) when stdin closes; then it closes the subscription (acks flushed,
// stream half-closed and ended by the broker) and prints {"event":"closed"}.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"time"

	sluice "github.com/sluice-broker/sluice/clients/go"
)

func emit(fields map[string]any) {
	line, err := json.Marshal(fields)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(line))
}

func main() {
	if len(os.Args) < 2 {
		log.Fatal("usage: go-actor publish|consume [flags]")
	}
	command := os.Args[1]
	flags := flag.NewFlagSet(command, flag.ExitOnError)
	address := flags.String("address", "", "broker address")
	topic := flags.String("topic", "", "topic")
	group := flags.String("group", "", "group (consume)")
	count := flags.Int("count", 0, "messages to publish, or to consume before stopping (0: until stdin closes)")
	prefix := flags.String("prefix", "go", "payload prefix (publish)")
	maxInFlight := flags.Uint("max-in-flight", 0, "max in flight (consume)")
	_ = flags.Parse(os.Args[2:])

	client, err := sluice.Dial(*address)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	switch command {
	case "publish":
		publish(client, *topic, *count, *prefix)
	case "consume":
		consume(client, *topic, *group, *count, uint32(*maxInFlight))
	default:
		log.Fatalf("unknown command %q", command)
	}
}

func publish(client *sluice.Client, topic string, count int, prefix string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	msgs := make([]sluice.Message, count)
	for i := range msgs {
		msgs[i] = sluice.Message{
			Key:       fmt.Sprintf("k%d", i),
			Payload:   fmt.Appendf(nil, "%s-%d", prefix, i),
			Headers:   map[string]string{"lang": "go", "i": fmt.Sprint(i)},
			MessageID: fmt.Sprintf("go-%d", i),
		}
	}
	positions, err := client.Publish(ctx, topic, msgs...)
	if err != nil {
		log.Fatal(err)
	}
	for i, p := range positions {
		emit(map[string]any{"event": "published", "partition": p.Partition, "offset": p.Offset, "payload": string(msgs[i].Payload)})
	}
}

func consume(client *sluice.Client, topic, group string, count int, maxInFlight uint32) {
	sub, err := client.Subscribe(context.Background(), topic, group,
		sluice.WithMaxInFlight(maxInFlight), sluice.WithConsumerName("go-actor"))
	if err != nil {
		log.Fatal(err)
	}
	emit(map[string]any{"event": "subscribed", "consumerId": sub.ConsumerID()})

	// Without -count, closing stdin is the signal to stop.
	stop, stopped := context.WithCancel(context.Background())
	defer stopped()
	if count == 0 {
		go func() { _, _ = io.Copy(io.Discard, os.Stdin); stopped() }()
	}
	received := 0
	for count == 0 || received < count {
		d, err := sub.Next(stop)
		if errors.Is(err, context.Canceled) {
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		if err := d.Ack(); err != nil {
			log.Fatal(err)
		}
		received++
		emit(map[string]any{"event": "message", "partition": d.Partition, "offset": d.Offset,
			"payload": string(d.Payload), "key": d.Key, "headers": d.Headers, "messageId": d.MessageID, "attempt": d.Attempt})
	}
	if err := sub.Close(); err != nil {
		log.Fatal(err)
	}
	emit(map[string]any{"event": "closed", "received": received})
}
