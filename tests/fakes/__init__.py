"""First-class fakes: a clock, engines, Janus. Tests build the real `Server` around them."""
