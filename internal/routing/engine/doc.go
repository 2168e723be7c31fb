// Package engine is the routing decision engine of the contact center: it
// decides which waiting work item is offered to which agent, and when.
//
// It is pure, deterministic and in memory. There is no database, no network,
// no goroutine and no wall clock: every call that can change state takes
// `now`, and the same calls with the same times give the same results (ties
// are broken by IDs and arrival order, never by map or set order). Every
// state change is returned as a list of typed [Event] values, in order, so
// that the caller can persist and publish them; [Engine.Snapshot] returns the
// whole state as plain rows ([State]) and [Engine.Restore] rebuilds an engine
// from such rows. A method returns its events also when it returns an error:
// the error refuses only the requested change, while timers that fell due
// before it still fired. An Engine is not safe for concurrent use.
//
// # Model
//
// A [Queue] takes items of some channels, requires skills (name → minimum
// level), has a priority, a strategy, a service-level target (reported by
// [Engine.Stats]), overflow rules (after a wait in the queue, move to another
// queue and/or replace the skill requirements by a wider set), a maximum wait
// (then move to a fallback queue, or abandon), after-contact work, and
// business hours (an IsOpen function and/or a Closed flag; items of a closed
// queue wait but are not offered, or are refused with RejectWhenClosed).
//
// An [Agent] has skills with levels, a capacity per channel (1 call, 3 chats,
// 5 emails) and optionally a list of queues. Config.Blocking says which
// channels block which: by default a call (or a video call) blocks every
// other channel, so an agent on the phone is offered no chat; chats do not
// block a call. An agent's presence is Available or Busy (the engine shows
// Busy while the agent has accepted work; both are "ready"), after-contact
// work (with a timeout), Away (with a reason) or Offline.
//
// A [WorkItem] waits in a queue. When the engine finds an agent for it, it
// reserves the item for that one agent with an offer ([OfferMade]); the
// agent accepts ([Engine.Accept], the item is then assigned) or declines
// ([Engine.Decline]). An offer not accepted within Config.OfferTimeout
// times out and the item goes to the next agent; an agent is kept from an
// item they declined or missed for Config.DeclineCooldown, and an agent who
// misses Config.MaxMissedOffers offers in a row is set Away. Completing an
// item ([Engine.Complete]) may start after-contact work. A supervisor can
// move an item to an agent directly ([Engine.Reassign]). Going Offline (or
// being removed) gives an agent's work back to the queues.
//
// # Decisions
//
// An agent is ready for a channel when its presence is Available or Busy, it
// holds no outstanding offer, it holds fewer items of the channel than its
// capacity (offers count), and it holds nothing on a channel that blocks this
// one. An item can be offered to a ready agent when its queue is open, the
// agent has every required skill at the required level and may serve the
// queue, the agent is not in a decline cooldown for it, and the item is not
// reserved for another (preferred) agent.
//
// Waiting items are ordered by effective priority, highest first, and then
// first come first served. Effective priority is the queue's plus the item's
// priority plus one per Config.AgingInterval waited, so that nothing starves:
// a low-priority item that has waited long enough beats a newly arrived
// higher-priority one. The comparison of two effective priorities does not
// depend on the time it is made at, so the sort key EnqueuedAt − priority ×
// AgingInterval is fixed for the life of an item and plain heaps stay ordered
// while time passes.
//
// The engine keeps one standing invariant between calls: no ready agent can
// be offered a waiting item. Anything that could break it (an arrival, a
// decline or timeout, an agent freed or back, a cooldown or preferred wait
// ending, an overflow, a queue opening) marks the items and agents involved,
// and at the end of the call the engine decides for them: marked items
// first, best first, each offered to the best unmarked ready agent chosen by
// the queue's strategy; then each marked agent takes the best item it can be
// offered anywhere. Because the invariant held before, these are the only
// pairs that can be new, so a decision never scans all items or all agents:
// waiting items live in per-class heaps (one class per queue, channel and
// skill requirement set, with a bit set of the agents that fit it), and
// ready agents in one set per channel.
//
// Strategies (per queue) pick among the ready agents that fit an item:
// [LongestIdle] (the default), [LeastBusy], [RoundRobin] and [BestSkill].
//
// Preferred agent: the agent who last served the customer (within
// Config.PreferredWindow), or the one named on the item, gets the first
// chance: if ready when the item arrives it gets the offer whatever the
// strategy says; otherwise the item is reserved for that agent until the
// preferred wait ends (Queue.PreferredWait or Config.PreferredWait), and
// only then offered to anyone. The customer hears the same voice.
//
// Timers (offer expiry, end of after-contact work, cooldowns, preferred
// waits, overflow, maximum wait) fire at the first call whose now is at or
// after their due time; [Engine.Tick] is that call when nothing else
// happens. Time never goes backwards: an earlier now counts as the latest
// seen.
//
// # Invariants
//
// The state-machine property test (model_test.go, with pgregory.net/rapid)
// drives random sequences of every operation against a naive model that
// follows the events, and checks:
//
//   - an agent never holds more items of a channel than its capacity, and is
//     never offered an item while holding work on a channel that blocks it;
//   - an item is held (offered or assigned) by at most one agent, and an
//     agent has at most one outstanding offer;
//   - every offer respects skills, queue hours, cooldowns and reservations,
//     and goes with the best item (effective priority, then first come) that
//     agent could be offered at that moment: FIFO within equal effective
//     priority and skills;
//   - no ready agent can be offered a waiting item after any call;
//   - an offer expires exactly OfferTimeout after it was made: never earlier,
//     and at the first call at or after that instant; an agent who missed
//     MaxMissedOffers in a row is Away;
//   - overflow, maximum wait and preferred waits act when due, not before;
//   - a snapshot restores to an equal state;
//   - liveness: with agents available and every offer accepted, all work
//     drains as time advances.
package engine
