"""Coding answers in any language into one shared set of themes.

How an answer is coded:

1. It is embedded once (multilingual, so "réchauffement climatique", "Klimawandel" and
   "气候变化" land close together) and centred on the mean of the seed examples, which
   removes what all statements share and spreads the themes apart.
2. Each theme has a prototype: the mean of its (centred) example embeddings, written in seven
   languages in ``seeds.py``. The answer's similarity to every prototype, minus its mean
   similarity to all of them, is the theme's score.
   Where a probe is packaged for the embedder (``probe.py``: a linear classifier trained on
   labelled parallel text in nine languages), it moves each seed theme's score toward what
   it learnt, which the language written in moves less.
3. Analysts' corrections are labelled examples. The answer's nearest corrected examples
   vote, weighted by similarity, and move each theme's score up or down; an answer (nearly)
   identical to a corrected one simply takes the analyst's themes.
4. Themes scoring at least ``threshold`` and within ``margin`` of the best are assigned (at
   most ``max_themes``), best first; none means "other".

``calibrate()`` re-fits threshold and margin on the corrections, scoring each against the
others. ``discover()`` clusters the answers (at a granularity the analyst picks) and
describes each cluster by its most central answers and keywords in every language present;
``preview()`` says what adopting one would change, with the theme's own threshold calibrated
on the cluster (see ``adoption.py``); ``adopt()`` turns one into a theme.
"""

from __future__ import annotations

from parley.consultation.analysis.coder_calibration import CoderCalibration
from parley.consultation.analysis.coder_discovery import CoderDiscovery


class ThemeCoder(CoderDiscovery, CoderCalibration):
    """Codes answers into themes with sentiment and language; learns from analysts' corrections.

    Methods block (embedding takes tens of milliseconds per answer on a CPU core); from async
    code use the ``a``-prefixed versions, which run them in a worker thread. One instance is
    safe to share between threads.

    The parts: `coder_base.CoderBase` (state, coding, corrections), `coder_calibration`
    (``calibrate``) and `coder_discovery` (``discover``, ``explore``, ``preview``, ``adopt``).
    """
