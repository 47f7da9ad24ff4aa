package sluice

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strconv"
	"sync/atomic"
	"unicode/utf8"

	sluicev1 "github.com/sluice-broker/sluice/clients/go/gen/sluice/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// toWire is the wire form of m, with id as its message id when m has none.
// It shares m's Payload and Headers rather than copying them.
func toWire(m Message, id string) *sluicev1.PublishMessage {
	if m.MessageID != "" {
		id = m.MessageID
	}
	return &sluicev1.PublishMessage{Key: m.Key, Payload: m.Payload, Headers: m.Headers, Partition: m.Partition, MessageId: id}
}

// checkMessage returns a codes.InvalidArgument status error for a message
// that cannot be encoded: protobuf strings must be valid UTF-8, and on a
// stream an encoding failure would end the stream for every other message.
func checkMessage(m Message) error {
	if problem := messageProblem(m); problem != "" {
		return status.Error(codes.InvalidArgument, "sluice: "+problem)
	}
	return nil
}

func messageProblem(m Message) string {
	if !utf8.ValidString(m.Key) {
		return "the message key is not valid UTF-8"
	}
	if !utf8.ValidString(m.MessageID) {
		return "the message id is not valid UTF-8"
	}
	for k, v := range m.Headers {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return fmt.Sprintf("header %q is not valid UTF-8", k)
		}
	}
	return ""
}

// checkTopic returns a codes.InvalidArgument status error for a name the
// broker would refuse: 1 to 200 of [A-Za-z0-9._-].
func checkTopic(name string) error {
	if name == "" {
		return status.Error(codes.InvalidArgument, "sluice: the topic name is empty")
	}
	if len(name) > 200 {
		return status.Errorf(codes.InvalidArgument, "sluice: the topic name is %d characters long; the maximum is 200", len(name))
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return status.Errorf(codes.InvalidArgument, "sluice: topic name %q contains %q; allowed are letters, digits, '.', '_' and '-'", name, c)
		}
	}
	return nil
}

// wireBytes is an upper estimate of a message's encoded size, as the
// TypeScript client makes it, for the request and unconfirmed-bytes bounds.
func wireBytes(m *sluicev1.PublishMessage) int {
	n := 16 + len(m.Payload) + len(m.Key) + len(m.MessageId)
	for k, v := range m.Headers {
		n += 8 + len(k) + len(v)
	}
	return n
}

// messageIDs makes a publisher's automatic message ids: a random prefix
// (8 characters and a dash) and a counter in base 36, as the TypeScript
// client does. Safe for concurrent use.
type messageIDs struct {
	prefix string
	n      atomic.Uint64
}

func newMessageIDs() *messageIDs {
	b := make([]byte, 6)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return &messageIDs{prefix: base64.RawURLEncoding.EncodeToString(b) + "-"}
}

func (ids *messageIDs) next() string {
	return ids.prefix + strconv.FormatUint(ids.n.Add(1)-1, 36)
}
