/** Two statuses to go back and forth between, so one order can change as often as a test needs. */
export const pingPongLifecycle = {
  name: 'ping-pong',
  statuses: ['ping', 'pong', 'end'],
  initial: ['ping'],
  final: ['end'],
  transitions: { ping: ['pong', 'end'], pong: ['ping', 'end'] },
};
