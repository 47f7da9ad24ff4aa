// Package sluice is a Go client for Sluice, a gRPC streaming message broker.
//
//	client, err := sluice.Dial("127.0.0.1:50051")
//	if err != nil { ... }
//	defer client.Close()
//
//	if _, err := client.Publish(ctx, "orders", sluice.Message{Payload: []byte("hello")}); err != nil { ... }
//
//	// For throughput: batching, pipelining, resends after a reconnection.
//	publisher, err := client.Publisher("orders")
//	if err != nil { ... }
//	defer publisher.Close(ctx)
//	result, err := publisher.Send(ctx, sluice.Message{Key: "user-1", Payload: []byte("hello")})
//
//	// Reconnects when the stream breaks (a broker restart); see Subscription.
//	sub, err := client.Subscribe(ctx, "orders", "billing", sluice.WithMaxInFlight(100))
//	if err != nil { ... }
//	defer sub.Close()
//	for {
//		d, err := sub.Next(ctx)
//		if err != nil { break } // io.EOF after Close; else why the subscription ended
//		process(d.Payload)
//		d.Ack()
//	}
//
// Errors from the broker are gRPC status errors: use status.Code(err) to
// read the code each RPC documents (codes.NotFound, codes.InvalidArgument...).
// The generated API is in the subpackage gen/sluice/v1 (package sluicev1);
// Client.Admin and Client.Broker give the raw stubs.
package sluice
