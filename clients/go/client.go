package sluice

import (
	"context"
	"time"

	sluicev1 "github.com/sluice-broker/sluice/clients/go/gen/sluice/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Client is a connection to one broker. It is safe for concurrent use.
type Client struct {
	conn   *grpc.ClientConn
	broker sluicev1.BrokerServiceClient
	admin  sluicev1.AdminServiceClient
}

// Dial makes a client for the broker at target (e.g. "127.0.0.1:50051").
// The connection is plaintext unless opts carry transport credentials; it
// is established lazily, so Dial fails only for a malformed target or
// option. Close the client when done.
func Dial(target string, opts ...grpc.DialOption) (*Client, error) {
	all := append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}, opts...)
	conn, err := grpc.NewClient(target, all...)
	if err != nil {
		return nil, err
	}
	return &Client{conn: conn, broker: sluicev1.NewBrokerServiceClient(conn), admin: sluicev1.NewAdminServiceClient(conn)}, nil
}

// Close closes the connection; open subscriptions end with an error.
func (c *Client) Close() error { return c.conn.Close() }

// Broker returns the generated BrokerService stub on the client's connection.
func (c *Client) Broker() sluicev1.BrokerServiceClient { return c.broker }

// Admin returns the generated AdminService stub on the client's connection.
func (c *Client) Admin() sluicev1.AdminServiceClient { return c.admin }

// CreateTopic creates a topic with the given partition count (0 means 1).
// Errors: codes.AlreadyExists, codes.InvalidArgument.
func (c *Client) CreateTopic(ctx context.Context, name string, partitions uint32) (*sluicev1.Topic, error) {
	res, err := c.admin.CreateTopic(ctx, &sluicev1.CreateTopicRequest{Name: name, Partitions: partitions})
	return res.GetTopic(), err
}

// GetTopic describes a topic with its partitions. Errors: codes.NotFound.
func (c *Client) GetTopic(ctx context.Context, name string) (*sluicev1.Topic, error) {
	res, err := c.admin.GetTopic(ctx, &sluicev1.GetTopicRequest{Name: name})
	return res.GetTopic(), err
}

// DeleteTopic deletes a topic, its messages and groups. Errors: codes.NotFound.
func (c *Client) DeleteTopic(ctx context.Context, name string) error {
	_, err := c.admin.DeleteTopic(ctx, &sluicev1.DeleteTopicRequest{Name: name})
	return err
}

// CreateGroup creates a consumer group; start and ackDeadline may be nil and
// zero for the broker's defaults (earliest, 30 s).
// Errors: codes.NotFound (topic), codes.AlreadyExists, codes.InvalidArgument.
func (c *Client) CreateGroup(ctx context.Context, topic, group string, start *sluicev1.StartPosition, ackDeadline time.Duration) (*sluicev1.Group, error) {
	res, err := c.admin.CreateGroup(ctx, &sluicev1.CreateGroupRequest{Topic: topic, Group: group, Start: start, Settings: settings(ackDeadline)})
	return res.GetGroup(), err
}

// GetGroup describes a group: per partition its committed offset, lag and
// in-flight count, and its connected consumers. Errors: codes.NotFound.
func (c *Client) GetGroup(ctx context.Context, topic, group string) (*sluicev1.Group, error) {
	res, err := c.admin.GetGroup(ctx, &sluicev1.GetGroupRequest{Topic: topic, Group: group})
	return res.GetGroup(), err
}

// DeleteGroup deletes a group. Errors: codes.NotFound; codes.FailedPrecondition
// while consumers are connected and force is false.
func (c *Client) DeleteGroup(ctx context.Context, topic, group string, force bool) error {
	_, err := c.admin.DeleteGroup(ctx, &sluicev1.DeleteGroupRequest{Topic: topic, Group: group, Force: force})
	return err
}

func settings(ackDeadline time.Duration) *sluicev1.GroupSettings {
	if ackDeadline == 0 {
		return nil
	}
	return &sluicev1.GroupSettings{AckDeadline: durationpb.New(ackDeadline)}
}
