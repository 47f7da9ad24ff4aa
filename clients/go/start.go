package sluice

import (
	"time"

	sluicev1 "github.com/sluice-broker/sluice/clients/go/gen/sluice/v1"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// StartEarliest starts a new group at the oldest retained message.
func StartEarliest() *sluicev1.StartPosition {
	return &sluicev1.StartPosition{Kind: sluicev1.StartPosition_KIND_EARLIEST}
}

// StartLatest starts a new group at the end: only later messages.
func StartLatest() *sluicev1.StartPosition {
	return &sluicev1.StartPosition{Kind: sluicev1.StartPosition_KIND_LATEST}
}

// StartAtOffset starts a new group at offset in every partition, clamped.
func StartAtOffset(offset uint64) *sluicev1.StartPosition {
	return &sluicev1.StartPosition{Kind: sluicev1.StartPosition_KIND_OFFSET, Offset: offset}
}

// StartAtTime starts a new group at the first message published at or after t.
func StartAtTime(t time.Time) *sluicev1.StartPosition {
	return &sluicev1.StartPosition{Kind: sluicev1.StartPosition_KIND_TIMESTAMP, Time: timestamppb.New(t)}
}
