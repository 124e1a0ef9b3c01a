import type { Namespace } from 'socket.io';
import { LOG_START, isAfter, positionOf, type LogPosition, type OrderEvent } from '../../domain/order.js';
import { type ChannelHub, type HubListener, topics } from '../../events/channel-hub.js';
import type { Metrics } from '../../metrics.js';
import type { TenantPositions } from '../../services/tenant-position.js';
import { orderUpdateOf } from './order-update.js';

/**
 * The room of the sockets whose offset would not say exactly what they have (a
 * subscription catching up from the log or being set up, a session row being written).
 * They get a room's updates apart, ending with no position. Not a hub topic: no
 * `order:` or `project:` prefix.
 */
export const UNSETTLED_ROOM = 'unsettled';

/** The offset that opens to nothing: a reconnect from it starts a new session rather than recover to the wrong place. */
export const NO_OFFSET = '';

const ORDER_PREFIX = topics.order('');

interface RoomFeed {
  release: () => void;
  /** The position of the topic's last event, broadcast or offered: the follower has passed it. */
  last?: LogPosition;
  /** Listeners of sockets not yet in the room (catching up), called after the room's broadcast; none most of the time. */
  joiners?: Set<HubListener>;
}

/**
 * socket.io's own fan-out, fed by the hub: a room per hub topic (`order:<id>`,
 * `project:<id>`), joined by the sockets in step with it, and a hub subscription per room,
 * which emits each event to the room through the adapter's broadcast: the packet is
 * encoded (and its WebSocket frame built) once however many sockets it goes to. With
 * recovery on, the packet ends with the event's log position sealed for its project
 * (socket.io's `offset`), the same for every socket of the room; the sockets of
 * UNSETTLED_ROOM get it ending with NO_OFFSET instead.
 *
 * A socket not yet in step (its subscription is being set up or catching up) follows
 * the topic as a joiner: its listener is called after the room's broadcast, so it can
 * join the room on a live event without getting the next one twice. One that joins
 * having sent versions the hub has not brought yet is spared their broadcasts
 * (`orderBroadcast`, OrderSubscription.admits).
 */
export class LiveRooms {
  private readonly feeds = new Map<string, RoomFeed>();
  /** The event an order's room is being sent, while it is (the adapter asks each socket whether to write it). */
  orderBroadcast: OrderEvent | undefined;

  constructor(
    private readonly nsp: Namespace,
    private readonly hub: ChannelHub,
    private readonly metrics: Metrics,
    /** Present when recovery is on: each packet then ends with an offset. */
    private readonly positions: TenantPositions | undefined,
  ) {
    nsp.adapter.on('delete-room', (room: string) => this.releaseIfUnused(room));
  }

  /** Puts a socket in a topic's room: from now on the room's broadcasts bring it the topic's events. */
  join(socket: { join(room: string): unknown }, topic: string): void {
    this.feedOf(topic);
    socket.join(topic);
  }

  /** Follows a topic for one socket not in its room; returns its release. */
  attach(topic: string, listener: HubListener): () => void {
    const feed = this.feedOf(topic);
    (feed.joiners ??= new Set()).add(listener);
    return () => {
      feed.joiners?.delete(listener);
      if (feed.joiners?.size === 0) feed.joiners = undefined;
      this.releaseIfUnused(topic);
    };
  }

  /** The newest of `from` and of the positions of the topics' last events that came through the hub. */
  newest(topicNames: Iterable<string>, from: LogPosition = LOG_START): LogPosition {
    let at = from;
    for (const topic of topicNames) {
      const last = this.feeds.get(topic)?.last;
      if (last && isAfter(last, at)) at = last;
    }
    return at;
  }

  /** Listeners over every room feed (for leak checks). */
  get feedCount(): number {
    return this.feeds.size;
  }

  private feedOf(topic: string): RoomFeed {
    const known = this.feeds.get(topic);
    if (known) return known;
    const feed: RoomFeed = { release: () => {} };
    this.feeds.set(topic, feed);
    // One listener for every order room and one for every project room: a closure per room would be kept by each.
    feed.release = this.hub.subscribe(topic, topic.startsWith(ORDER_PREFIX) ? this.onOrderEvent : this.onProjectEvent);
    return feed;
  }

  private readonly onOrderEvent = (event: OrderEvent): void => this.deliver(topics.order(event.orderId), event);
  private readonly onProjectEvent = (event: OrderEvent): void => this.deliver(topics.project(event.projectId), event);

  /** One event of a topic's feed: to the room, then to the joiners. */
  private deliver(topic: string, event: OrderEvent): void {
    const feed = this.feeds.get(topic);
    if (!feed) return;
    feed.last = positionOf(event);
    this.broadcast(topic, event);
    const joiners = feed.joiners;
    if (joiners?.size === 1) (joiners.values().next().value as HubListener)(event);
    else if (joiners) for (const listener of [...joiners]) listener(event);
  }

  private releaseIfUnused(topic: string): void {
    const feed = this.feeds.get(topic);
    if (!feed || feed.joiners || this.nsp.adapter.rooms.has(topic)) return;
    this.feeds.delete(topic);
    feed.release();
  }

  private broadcast(room: string, event: OrderEvent): void {
    const members = this.nsp.adapter.rooms.get(room);
    if (!members || members.size === 0) return;
    this.orderBroadcast = room.startsWith(ORDER_PREFIX) ? event : undefined;
    try {
      this.emit(room, members, event);
    } finally {
      this.orderBroadcast = undefined;
    }
    for (let i = 0; i < members.size; i++) this.metrics.messageSent('socketio', event.createdAt);
  }

  private emit(room: string, members: Set<string>, event: OrderEvent): void {
    const update = orderUpdateOf(event);
    const unsettled = this.nsp.adapter.rooms.get(UNSETTLED_ROOM);
    if (!this.positions) this.nsp.to(room).emit('order:update', update);
    else if (!unsettled || unsettled.size < members.size) {
      // The adapter walks the room once, leaving out its unsettled members (fewer than it has).
      const sealed = this.positions.seal(event.projectId, positionOf(event));
      this.nsp.to(room).except(UNSETTLED_ROOM).emit('order:update', update, sealed);
      const ids = unsettled ? [...unsettled].filter((id) => members.has(id)) : [];
      if (ids.length > 0) this.nsp.to(ids).emit('order:update', update, NO_OFFSET);
    } else {
      // A room smaller than the unsettled sockets (most follow one order): its members sorted here, not every unsettled socket walked.
      const settledIds: string[] = [];
      const unsettledIds: string[] = [];
      for (const id of members) (unsettled.has(id) ? unsettledIds : settledIds).push(id);
      if (settledIds.length > 0) this.nsp.to(settledIds).emit('order:update', update, this.positions.seal(event.projectId, positionOf(event)));
      if (unsettledIds.length > 0) this.nsp.to(unsettledIds).emit('order:update', update, NO_OFFSET);
    }
  }
}
