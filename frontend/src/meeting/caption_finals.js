// --- which caption lines this page already showed final ---------------------------------------
// The server publishes each final at least once, even when the web process that owns the
// meeting's interpretation dies half way, and again only when it died between publishing a
// final and recording it published, or lost its lease while publishing it
// (src/parley/handlers/interpretation/shown.py): this guard drops that copy. The page shows each line once,
// and the screen reader's live region does not say it twice, even once the line left the
// list (MAX_LINES).
// No DOM here, so that a test runs it under node (tests/unit/test_caption_finals_js.py).
const MAX_KEPT = 1000;

function keyOf(c) {
  return c.speaker_id + "|" + c.utterance_id + "|" + c.role + "|" + c.language;
}

export function finalsShown(max) {
  var limit = max || MAX_KEPT;
  var seen = new Map();  // line -> {revision, forced} of the final shown, oldest first
  return {
    // True when the caption adds nothing: its line was final here already. A real final after
    // a forced one (made from the last partial when the worker's could not come) replaces it,
    // as a final of a later revision does; a partial after the final, a forced final after a
    // real one, or the same final again is dropped.
    repeats: function (c) {
      var shown = seen.get(keyOf(c));
      if (!shown) return false;
      if (!c.is_final) return true;
      if (shown.forced && !c.forced) return false;
      return c.revision <= shown.revision || (c.forced && !shown.forced);
    },
    // A final was shown: remember it (bounded: the oldest go first).
    shown: function (c) {
      if (!c.is_final) return;
      var key = keyOf(c);
      seen.delete(key);
      seen.set(key, { revision: c.revision, forced: !!c.forced });
      while (seen.size > limit) seen.delete(seen.keys().next().value);
    },
  };
}
