// The collective watchdog (like Horovod's stall inspector): every collective
// marks itself entered/left (OpTimer does it); a background thread checks that
// none stays entered longer than --collective-timeout seconds. When one does,
// the rank prints which collective it waits in (name, sequence number, seconds),
// waits a few seconds so every other waiting rank prints too — the ranks
// missing from those lines are the ones that never arrived — and exits non-zero,
// which makes mpirun end the whole job. Uses no MPI call from its thread.
#pragma once

#include <cstdint>

namespace moecollab {

// Starts the watchdog for this process (once; a later call changes the timeout).
// seconds <= 0 disables it.
void start_collective_watchdog(double seconds, int rank);

// Called by OpTimer around every collective.
void watchdog_enter(const char* operation);
void watchdog_leave();

}  // namespace moecollab
