// Command consumer reads a Sluice topic through a consumer group, printing
// and acking each message, until -n messages or Ctrl-C.
//
//	go run ./examples/consumer -addr 127.0.0.1:50051 -topic demo -group printer
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"

	sluice "github.com/sluice-broker/sluice/clients/go"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:50051", "broker address")
	topic := flag.String("topic", "demo", "topic to consume")
	group := flag.String("group", "printer", "consumer group")
	n := flag.Int("n", 0, "stop after this many messages (0: run until interrupted)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	client, err := sluice.Dial(*addr)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	sub, err := client.Subscribe(ctx, *topic, *group, sluice.WithMaxInFlight(100), sluice.WithConsumerName("go-example"))
	if err != nil {
		log.Fatal(err)
	}
	defer sub.Close()
	for count := 0; *n == 0 || count < *n; count++ {
		d, err := sub.Next(ctx)
		if errors.Is(err, context.Canceled) || err == io.EOF {
			return
		}
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("partition %d offset %d attempt %d: %s\n", d.Partition, d.Offset, d.Attempt, d.Payload)
		if err := d.Ack(); err != nil {
			log.Fatal(err)
		}
	}
}
