/**
 * Shared pieces of the storage conformance suite: the fixture type and small
 * builders for metadata and values.
 */

import { expect } from "vitest";
import {
  StorageError,
  type GroupMeta,
  type Storage,
  type StorageErrorCode,
  type TopicMeta,
} from "../../src/storage/storage.js";

/** What an implementation hands the conformance suite for one test. */
export interface StorageFixture {
  /** An opened storage over empty data. */
  readonly storage: Storage;
  /**
   * Closes the storage most recently returned (by `make` or `reopen`) and
   * returns an opened one over the same data. Omit it for storage that
   * cannot outlive its instance; the persistence tests are then skipped.
   */
  readonly reopen?: () => Promise<Storage>;
  /**
   * Makes the next batch write fail with `code`, applying nothing. Omit it
   * when the implementation cannot inject failures; the test is then skipped.
   */
  readonly failNextWrite?: (code: StorageErrorCode) => void;
  /** Closes whatever storage is current and removes its data. */
  readonly cleanup: () => Promise<void>;
}

/** Gives each test the current fixture and storage (which `reopen` replaces). */
export interface ContractContext {
  readonly fixture: () => StorageFixture;
  readonly storage: () => Storage;
  /** Reopens through the fixture and makes the result current. */
  readonly reopen: () => Promise<Storage>;
}

/** 2^53, where `number` stops being exact. */
export const TWO_POW_53 = 2n ** 53n;
/** The largest u64. */
export const MAX_U64 = 2n ** 64n - 1n;

/** A topic's metadata with defaults. */
export function topic(id: number, overrides: Partial<TopicMeta> = {}): TopicMeta {
  return {
    id,
    name: `topic-${id}`,
    partitions: 4,
    retentionMaxAgeMs: 0,
    retentionMaxBytes: 0n,
    dedupeWindowMs: 120_000,
    createdAt: 1_700_000_000_000 + id,
    ...overrides,
  };
}

/** A group's metadata with defaults. */
export function group(id: number, topicId: number, overrides: Partial<GroupMeta> = {}): GroupMeta {
  return {
    id,
    topicId,
    name: `group-${id}`,
    ackDeadlineMs: 30_000,
    ordered: false,
    retryBackoffMinMs: 0,
    retryBackoffMaxMs: 0,
    maxDeliveries: 0,
    deadLetterTopic: "",
    createdAt: 1_700_000_000_000 + id,
    ...overrides,
  };
}

/** UTF-8 bytes of `text`. */
export function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** The text of UTF-8 `value`, or `undefined`. */
export function text(value: Uint8Array | undefined): string | undefined {
  return value === undefined ? undefined : new TextDecoder().decode(value);
}

/** Appends records valued `${topicId}/${partition}/${offset}` and writes them. */
export async function appendRecords(
  storage: Storage,
  topicId: number,
  partition: number,
  offsets: readonly bigint[],
): Promise<void> {
  const batch = storage.batch();
  for (const offset of offsets) batch.appendRecord(topicId, partition, offset, bytes(`${topicId}/${partition}/${offset}`));
  await batch.write({ sync: false });
}

/** The offsets `[from, to)`. */
export function range(from: bigint, to: bigint): bigint[] {
  const offsets: bigint[] = [];
  for (let offset = from; offset < to; offset++) offsets.push(offset);
  return offsets;
}

/** Asserts that `promise` rejects with a {@link StorageError} of `code`. */
export async function expectStorageError(promise: Promise<unknown>, code: StorageErrorCode): Promise<StorageError> {
  const err: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StorageError);
  expect((err as StorageError).code).toBe(code);
  return err as StorageError;
}
