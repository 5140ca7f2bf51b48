// The Janus browser library (npm janus-gateway, with webrtc-adapter), exposed as
// window.Janus for Parley's meeting page.
import Janus from "janus-gateway";

window.Janus = Janus;
