package sluice_test

import (
	"testing"
	"time"

	sluice "github.com/sluice-broker/sluice/clients/go"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestAdminCallsReportTheDocumentedCodes(t *testing.T) {
	c := dial(t)
	ctx := testContext(t)
	topic := newTopic(t, c, 3)

	if _, err := c.CreateTopic(ctx, topic, 1); status.Code(err) != codes.AlreadyExists {
		t.Fatalf("CreateTopic twice = %v, want AlreadyExists", err)
	}
	if _, err := c.CreateTopic(ctx, "bad name!", 1); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("CreateTopic(bad name) = %v, want InvalidArgument", err)
	}
	got, err := c.GetTopic(ctx, topic)
	if err != nil || got.GetPartitionCount() != 3 || len(got.GetPartitions()) != 3 {
		t.Fatalf("GetTopic = %v, %v", got, err)
	}
	if _, err := c.CreateGroup(ctx, topic, "g", sluice.StartLatest(), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	group, err := c.GetGroup(ctx, topic, "g")
	if err != nil || group.GetSettings().GetAckDeadline().AsDuration() != 5*time.Second {
		t.Fatalf("GetGroup = %v, %v", group, err)
	}
	if err := c.DeleteTopic(ctx, topic); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetTopic(ctx, topic); status.Code(err) != codes.NotFound {
		t.Fatalf("GetTopic after delete = %v, want NotFound", err)
	}
	if _, err := c.Publish(ctx, topic, sluice.Message{Payload: []byte("x")}); status.Code(err) != codes.NotFound {
		t.Fatalf("Publish to a deleted topic = %v, want NotFound", err)
	}
}

func TestRepublishingAMessageIDReportsTheOriginalAsADuplicate(t *testing.T) {
	c := dial(t)
	ctx := testContext(t)
	topic := newTopic(t, c, 1)
	if _, err := c.Publish(ctx, topic, sluice.Message{Payload: []byte("once"), MessageID: "id-1"}, sluice.Message{Payload: []byte("other")}); err != nil {
		t.Fatal(err)
	}
	again, err := c.Publish(ctx, topic, sluice.Message{Payload: []byte("once"), MessageID: "id-1"})
	if err != nil {
		t.Fatal(err)
	}
	if want := (sluice.PublishResult{Position: sluice.Position{Partition: 0, Offset: 0}, Duplicate: true}); again[0] != want {
		t.Fatalf("republish = %+v, want %+v", again[0], want)
	}
}

func TestExplicitPartitionAndKeyPickThePartition(t *testing.T) {
	c := dial(t)
	ctx := testContext(t)
	topic := newTopic(t, c, 4)
	got, err := c.Publish(ctx, topic,
		sluice.Message{Payload: []byte("a"), Partition: sluice.Partition(3)},
		sluice.Message{Payload: []byte("b"), Key: "user-1"},
		sluice.Message{Payload: []byte("c"), Key: "user-1"},
	)
	if err != nil {
		t.Fatal(err)
	}
	if got[0].Partition != 3 || got[1].Partition != got[2].Partition || got[1].Partition != fnv1a("user-1")%4 {
		t.Fatalf("positions = %v (fnv1a(user-1) mod 4 = %d)", got, fnv1a("user-1")%4)
	}
}

func fnv1a(s string) uint32 {
	h := uint32(2166136261)
	for _, b := range []byte(s) {
		h ^= uint32(b)
		h *= 16777619
	}
	return h
}
