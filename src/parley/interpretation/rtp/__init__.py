"""Plain RTP over UDP: what a media server forwards to us and what we send back.

    UDP datagram -> RtpPacket.parse -> RtpReceiver (demux by SSRC) -> JitterBuffer (reorder,
    declare loss) -> RtpDepacketizer (Opus decode, fill gaps, resample, stamp media time) ->
    AudioChunk

    samples -> OpusEncoder -> RtpPacketizer (seq/timestamp/ssrc/marker) -> RtpOpusSender
    (paced 20 ms frames) -> UDP

Nothing here knows about Janus; any sender of Opus RTP works.

One module per object, as aiortc has them: packet.py, jitterbuffer.py, depacketizer.py,
receiver.py, source.py (one speaker's chunks), sender.py (packetizer and paced sender).
"""

from parley.interpretation.rtp.depacketizer import RtpDepacketizer
from parley.interpretation.rtp.jitterbuffer import JitterBuffer, JitterStats, Lost
from parley.interpretation.rtp.packet import HEADER_SIZE, RTP_VERSION, RtpError, RtpPacket, unwrap
from parley.interpretation.rtp.receiver import ReceiverStats, RtpReceiver
from parley.interpretation.rtp.sender import RtpOpusSender, RtpPacketizer
from parley.interpretation.rtp.source import RtpAudioSource

__all__ = [
    "HEADER_SIZE",
    "JitterBuffer",
    "JitterStats",
    "Lost",
    "RTP_VERSION",
    "ReceiverStats",
    "RtpAudioSource",
    "RtpDepacketizer",
    "RtpError",
    "RtpOpusSender",
    "RtpPacket",
    "RtpPacketizer",
    "RtpReceiver",
    "unwrap",
]
