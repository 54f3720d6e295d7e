"""Counts the events of an AMI stream with panoramisk, the asyncio AMI client, for comparison
with amibridge on the same bytes (scripts/bench-storm.sh runs it against `amibridge-bench storm feed`).

It logs in, registers one callback for every event (`*`) that only counts, and stops at the
expected number of events; it prints one line: events, seconds from the first event to the last,
events/s. Usage: python panoramisk_count.py PORT EXPECTED_EVENTS [TIMEOUT_SECONDS]
"""
import asyncio
import sys
import time

from panoramisk import Manager


async def count(port, expected, timeout):
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    state = {"events": 0, "first": None, "last": None}

    def on_event(manager, message):
        now = time.perf_counter()
        if state["first"] is None:
            state["first"] = now
        state["events"] += 1
        state["last"] = now
        if state["events"] >= expected and not done.done():
            done.set_result(None)

    # No Ping during the run: a benchmark of reading, not of keepalives.
    manager = Manager(loop=loop, host="127.0.0.1", port=port, username="storm", secret="storm",
                      ping_delay=3600, ping_interval=3600, reconnect_timeout=3600)
    manager.register_event("*", on_event)
    await manager.connect()
    try:
        await asyncio.wait_for(done, timeout)
    except asyncio.TimeoutError:
        pass
    manager.close()
    elapsed = (state["last"] - state["first"]) if state["first"] is not None else 0.0
    rate = state["events"] / elapsed if elapsed > 0 else 0.0
    complete = "" if state["events"] >= expected else f" INCOMPLETE after {timeout:.0f} s"
    print(f"panoramisk: {state['events']} events in {elapsed:.2f} s = {rate:.0f} events/s{complete}", flush=True)


def main():
    port = int(sys.argv[1])
    expected = int(sys.argv[2])
    timeout = float(sys.argv[3]) if len(sys.argv) > 3 else 600.0
    asyncio.run(count(port, expected, timeout))


if __name__ == "__main__":
    main()
