import type { DescMethod } from "@bufbuild/protobuf";
import type * as admin from "../../../gen/sluice/v1/admin_pb.js";
import { AdminService } from "../../../gen/sluice/v1/admin_pb.js";
import type * as broker from "../../../gen/sluice/v1/broker_pb.js";
import { BrokerService } from "../../../gen/sluice/v1/broker_pb.js";
import type { Grants, Need } from "./permissions.js";

/** The permission rule of one Sluice RPC. */
export interface RpcRule {
  /**
   * What a request (or, on a stream, each message) needs. Empty for a
   * message that names nothing, e.g. a Subscribe ack, which acts within the
   * topic and group its `open` was allowed.
   */
  needs(request: unknown): readonly Need[];
  /**
   * On a stream, what happens to a message that is not allowed: `end-call`
   * ends the stream with PERMISSION_DENIED; `reject-request` answers just
   * that request (PublishStream's per-request errors) and the stream goes on.
   */
  readonly onDenied: "end-call" | "reject-request";
  /** Trims a response to what the caller's grants cover. */
  filter?(response: unknown, grants: Grants): unknown;
}

function rule<T>(needs: (request: T) => Need[], extra: Partial<Omit<RpcRule, "needs">> = {}): RpcRule {
  return { needs: needs as (request: unknown) => Need[], onDenied: "end-call", ...extra };
}

const onTopic = <T>(permission: Need["permission"], topic: (r: T) => string) =>
  rule<T>((r) => [{ permission, topic: topic(r) }]);
const subscribeTo = <T extends { topic: string; group: string }>() =>
  rule<T>((r) => [{ permission: "subscribe", topic: r.topic, group: r.group }]);
const adminOnTopic = <T extends { topic: string }>() => onTopic<T>("admin", (r) => r.topic);
const adminOnName = <T extends { name: string }>() => onTopic<T>("admin", (r) => r.name);

/** The gRPC path of a method, `/sluice.v1.BrokerService/Publish`. */
export function methodPath(method: DescMethod): string {
  return `/${method.parent.typeName}/${method.name}`;
}

const b = BrokerService.method;
const a = AdminService.method;

/**
 * The permission every Sluice RPC needs, by gRPC path: the one table of who
 * may call what. With authentication on, the server refuses to start if an
 * RPC of the Sluice services has no rule here, so a new RPC cannot slip
 * through unchecked.
 *
 * - publishing needs `publish` on the topic;
 * - consuming (Subscribe's `open`, Fetch, Ack, Nack, ExtendDeadline) needs
 *   `subscribe` on the topic with the group;
 * - every AdminService RPC needs `admin` on the topic; ListTopics needs
 *   `admin` on some topic and lists only the topics `admin` covers.
 */
export const RPC_RULES: Readonly<Record<string, RpcRule>> = {
  [methodPath(b.publish)]: onTopic<broker.PublishRequest>("publish", (r) => r.topic),
  [methodPath(b.publishStream)]: rule<broker.PublishStreamRequest>((r) => [{ permission: "publish", topic: r.topic }], {
    onDenied: "reject-request",
  }),
  [methodPath(b.subscribe)]: rule<broker.SubscribeRequest>((r) =>
    r.request.case === "open" ? [{ permission: "subscribe", topic: r.request.value.topic, group: r.request.value.group }] : [],
  ),
  [methodPath(b.fetch)]: subscribeTo<broker.FetchRequest>(),
  [methodPath(b.ack)]: subscribeTo<broker.AckRequest>(),
  [methodPath(b.nack)]: subscribeTo<broker.NackRequest>(),
  [methodPath(b.extendDeadline)]: subscribeTo<broker.ExtendDeadlineRequest>(),

  [methodPath(a.createTopic)]: adminOnName<admin.CreateTopicRequest>(),
  [methodPath(a.getTopic)]: adminOnName<admin.GetTopicRequest>(),
  [methodPath(a.listTopics)]: rule<admin.ListTopicsRequest>(() => [{ permission: "admin", anyTopic: true }], {
    filter: (response, grants) => {
      const r = response as admin.ListTopicsResponse;
      // The page token stays: a page may come back short, even empty, with more to follow.
      return { ...r, topics: r.topics.filter((t) => grants.allows({ permission: "admin", topic: t.name })) };
    },
  }),
  [methodPath(a.updateTopic)]: adminOnName<admin.UpdateTopicRequest>(),
  [methodPath(a.deleteTopic)]: adminOnName<admin.DeleteTopicRequest>(),
  [methodPath(a.createGroup)]: adminOnTopic<admin.CreateGroupRequest>(),
  [methodPath(a.getGroup)]: adminOnTopic<admin.GetGroupRequest>(),
  [methodPath(a.listGroups)]: adminOnTopic<admin.ListGroupsRequest>(),
  [methodPath(a.updateGroup)]: adminOnTopic<admin.UpdateGroupRequest>(),
  [methodPath(a.seekGroup)]: adminOnTopic<admin.SeekGroupRequest>(),
  [methodPath(a.deleteGroup)]: adminOnTopic<admin.DeleteGroupRequest>(),
};
