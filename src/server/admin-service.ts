import { create } from "@bufbuild/protobuf";
import type { UntypedServiceImplementation } from "@grpc/grpc-js";
import type { Broker } from "../broker/broker.js";
import { BrokerError } from "../broker/broker-error.js";
import type { Logger } from "../broker/logger.js";
import { partitionInfo } from "../broker/partition-details.js";
import { DEFAULT_DEDUPE_WINDOW_MS, DEFAULT_RETENTION_MS } from "../broker/types.js";
import * as pb from "../../gen/sluice/v1/admin_pb.js";
import { durationMs, groupProto, groupSettings, startPosition, topicProto } from "./convert.js";
import { unary } from "./unary.js";

const DEFAULT_PAGE_SIZE = 100;
const MAX_PAGE_SIZE = 1000;

/** The AdminService handlers: thin conversions around the broker core. */
export function adminService(broker: Broker, logger: Logger): UntypedServiceImplementation {
  return {
    createTopic: unary(logger, "CreateTopic", async (req: pb.CreateTopicRequest) => {
      const topic = await broker.createTopic(req.name, {
        partitions: req.partitions === 0 ? 1 : req.partitions,
        retentionMaxAgeMs: durationMs(req.retention?.maxAge, "retention.max_age") || DEFAULT_RETENTION_MS,
        retentionMaxBytes: req.retention?.maxBytes ?? 0n,
        dedupeWindowMs: durationMs(req.dedupeWindow, "dedupe_window") ?? DEFAULT_DEDUPE_WINDOW_MS,
      });
      return create(pb.CreateTopicResponseSchema, { topic: topicProto(topic, partitionInfo(topic)) });
    }),

    getTopic: unary(logger, "GetTopic", async (req: pb.GetTopicRequest) => {
      const topic = broker.topic(req.name);
      return create(pb.GetTopicResponseSchema, { topic: topicProto(topic, await broker.describePartitions(topic)) });
    }),

    updateTopic: unary(logger, "UpdateTopic", async (req: pb.UpdateTopicRequest) => {
      const retention = req.retention;
      const topic = await broker.updateTopic(req.name, {
        partitions: req.partitions,
        // A retention policy replaces the old one whole: unset fields take defaults.
        retentionMaxAgeMs: retention === undefined ? undefined : (durationMs(retention.maxAge, "retention.max_age") ?? 0),
        retentionMaxBytes: retention?.maxBytes,
        dedupeWindowMs: durationMs(req.dedupeWindow, "dedupe_window"),
      });
      return create(pb.UpdateTopicResponseSchema, { topic: topicProto(topic, await broker.describePartitions(topic)) });
    }),

    listTopics: unary(logger, "ListTopics", async (req: pb.ListTopicsRequest) => {
      const size = Math.min(req.pageSize === 0 ? DEFAULT_PAGE_SIZE : req.pageSize, MAX_PAGE_SIZE);
      const after = decodePageToken(req.pageToken);
      const topics = broker.listTopics(after, size + 1);
      const page = topics.slice(0, size);
      return create(pb.ListTopicsResponseSchema, {
        topics: page.map((t) => topicProto(t)),
        nextPageToken: topics.length > size ? encodePageToken(page[page.length - 1]!.name) : "",
      });
    }),

    deleteTopic: unary(logger, "DeleteTopic", async (req: pb.DeleteTopicRequest) => {
      await broker.deleteTopic(req.name);
      return create(pb.DeleteTopicResponseSchema);
    }),

    createGroup: unary(logger, "CreateGroup", async (req: pb.CreateGroupRequest) => {
      const group = await broker.groups.create(req.topic, req.group, startPosition(req.start), groupSettings(req.settings));
      return create(pb.CreateGroupResponseSchema, { group: groupProto(group, true) });
    }),

    getGroup: unary(logger, "GetGroup", async (req: pb.GetGroupRequest) => {
      const group = broker.groups.get(req.topic, req.group);
      const view = groupProto(group, true);
      // committed_offset is documented as durable: answer once this view is.
      await broker.groups.stateDurable(group);
      return create(pb.GetGroupResponseSchema, { group: view });
    }),

    listGroups: unary(logger, "ListGroups", async (req: pb.ListGroupsRequest) => {
      const topic = broker.topic(req.topic);
      const groups = [...topic.groups.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
      return create(pb.ListGroupsResponseSchema, { groups: groups.map((g) => groupProto(g, false)) });
    }),

    updateGroup: unary(logger, "UpdateGroup", async (req: pb.UpdateGroupRequest) => {
      const group = await broker.groups.update(req.topic, req.group, groupSettings(req.settings));
      return create(pb.UpdateGroupResponseSchema, { group: groupProto(group, true) });
    }),

    seekGroup: unary(logger, "SeekGroup", async (req: pb.SeekGroupRequest) => {
      const target = req.offsets.length > 0 ? req.offsets : startPosition(req.position);
      const group = await broker.groups.seek(req.topic, req.group, target);
      return create(pb.SeekGroupResponseSchema, { group: groupProto(group, true) });
    }),

    deleteGroup: unary(logger, "DeleteGroup", async (req: pb.DeleteGroupRequest) => {
      await broker.groups.delete(req.topic, req.group, req.force);
      return create(pb.DeleteGroupResponseSchema);
    }),
  };
}

function encodePageToken(lastName: string): string {
  return Buffer.from(`t:${lastName}`).toString("base64url");
}

function decodePageToken(token: string): string {
  if (token === "") return "";
  const text = Buffer.from(token, "base64url").toString();
  if (!text.startsWith("t:")) throw new BrokerError("invalid-argument", "page_token is not one ListTopics returned");
  return text.slice(2);
}
