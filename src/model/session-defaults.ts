// Session parameters tern runs every BGP session with, where the resources say nothing:
// validation checks BGPPeer timers against them, peering writes them into each PeerSpec.

/** BIRD's default hold time (seconds); Calico does not change it. */
export const HOLD_TIME = 240;
