// What the meeting page knows right now, shared by its parts: the last meeting state from the
// server, this person's choices, and the current Janus connection. One object, so every part
// reads and writes the same values (ES module bindings cannot be assigned from outside).
export const live = {
  state: null,
  you: null,
  serverOffset: 0,
  wantRoom: false,       // true between joining and leaving (drives reconnection)
  mode: "video",
  selfMuted: false,
  cameraOn: true,
  localStream: null,
  conn: null,            // the current Janus connection
  remote: {},            // feed id -> {stream, audio, video}
  chatLoaded: false,
  reconnectDelay: 1000,
  reconnectTimer: null,
  leftText: "",
  socket: null,          // the meeting socket /ws/meetings/<id>
  interp: null,          // GET /interpretation
  reading: null,         // caption language
  listening: null,       // null = the floor, "voice:xx" or "interpreter:xx"
};
