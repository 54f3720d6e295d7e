"""The status page in a real headless Chromium, for scripts/browser-test.sh.

    python status_page.py --base URL --key KEY --receiver-log FILE --accept-file FILE \
        --simulate "amibridge simulate --port N ..." --simulator-pid-file FILE --screenshot PNG

With the daemon running (its AMI server not up yet, its webhook receiver refusing):
  1. the page loads and draws its first snapshot with no console error;
  2. the simulator starts; a call it places shows within seconds, in "Calls in progress" or,
     once it has ended, in "Calls waiting" (for its ViciDial row), its number masked;
  3. its webhooks are refused (400) and become dead letters, which the page lists;
  4. with the API key typed into the page and the receiver accepting, "Retry" on a dead letter
     leads to that delivery reaching the receiver with a 200;
  5. no console error since, and a screenshot of the page as it stands.
Prints one line per step; exits non-zero at the first failure.
"""

import argparse
import json
import os
import shlex
import signal
import subprocess
import sys
import time
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By


def log(message):
    print(f"browser-test: {message}", file=sys.stderr, flush=True)


def fail(message):
    raise SystemExit(f"browser-test: FAILED: {message}")


def wait_for(what, condition, timeout, interval=0.2):
    """condition() until it returns something truthy, or fail after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            fail(f"{what}: not within {timeout:.0f} s")
        time.sleep(interval)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--receiver-log", required=True)
    parser.add_argument("--accept-file", required=True)
    parser.add_argument("--simulate", required=True)
    parser.add_argument("--simulator-pid-file", required=True)
    parser.add_argument("--simulator-log", required=True)
    parser.add_argument("--screenshot", required=True)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--chromedriver", default="/usr/bin/chromedriver")
    args = parser.parse_args()
    # `timeout` (browser-test.sh) sends SIGTERM: unwind, so Chromium and the simulator are stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    simulators = []
    simulator_log = open(args.simulator_log, "ab")

    def start_simulator():
        simulator = subprocess.Popen(shlex.split(args.simulate), stdout=simulator_log, stderr=subprocess.STDOUT)
        simulators.append(simulator)
        with open(args.simulator_pid_file, "a") as pids:
            pids.write(f"{simulator.pid}\n")
        return simulator

    def stop_simulator(simulator):
        if simulator.poll() is not None:
            return
        simulator.send_signal(signal.SIGTERM)
        try:
            simulator.wait(timeout=5)
        except subprocess.TimeoutExpired:
            simulator.kill()
            simulator.wait()

    def status():
        with urllib.request.urlopen(args.base + "/status.json", timeout=5) as response:
            return json.load(response)

    options = Options()
    options.binary_location = args.chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1400,1500", "--no-first-run", "--disable-extensions"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=args.chromedriver), options=options)
    driver.set_page_load_timeout(20)
    try:
        def console_errors():
            return [entry for entry in driver.get_log("browser") if entry.get("level") == "SEVERE"]

        # 1. The page loads and draws a snapshot, with no console error.
        started = time.monotonic()
        driver.get(args.base + "/")
        wait_for("the first snapshot drawn", lambda: driver.find_element(By.ID, "updated").text.startswith("updated"), 10)
        errors = console_errors()
        if errors:
            fail(f"console errors after load: {errors}")
        log(f"page loaded and drew its first snapshot in {time.monotonic() - started:.1f} s, no console error")

        # 2. A call the simulator places shows within seconds.
        simulator = start_simulator()
        placed = time.monotonic()

        def call_row():
            """The first call listed (section, its cells), in progress or waiting."""
            for section in ("calls", "waiting"):
                rows = driver.find_elements(By.CSS_SELECTOR, f"#{section} tbody tr")
                if rows:
                    return section, [cell.text for cell in rows[0].find_elements(By.TAG_NAME, "td")]
            return None

        section, row = wait_for("a call on the page", call_row, 20)
        shown_after = time.monotonic() - placed
        linkedid = row[2]
        snapshot = status()
        known = {c["linkedid"] for c in snapshot["calls_in_progress"]["calls"] + snapshot["calls_waiting"]["calls"]}
        if linkedid not in known:
            fail(f"the page's call {linkedid!r} is none of the daemon's calls {sorted(known)}")
        where = "in-progress" if section == "calls" else "waiting"
        log(f"a call the simulator placed showed ({where}) {shown_after:.1f} s after it started: {' | '.join(row)}")
        # log.mask_phone_numbers is on: every number on the page keeps its last 4 digits only.
        numbers = [cell.text for cell in driver.find_elements(By.CSS_SELECTOR, "#calls tbody td:nth-child(5), #waiting tbody td:nth-child(5)")]
        unmasked = [number for number in numbers if sum(c.isdigit() for c in number) > 4]
        if unmasked:
            fail(f"unmasked numbers on the page: {unmasked}")

        # 3. The refused webhooks become dead letters on the page.
        wait_for("dead letters on the page", lambda: driver.find_elements(By.CSS_SELECTOR, "#dead button"), 40)
        dead = status()["dead_letters"]
        log(f"{dead['count']} dead letter(s) listed after the receiver refused them")

        # 4. Retry from the page, with the key typed in, once the receiver accepts.
        driver.find_element(By.ID, "api-key").send_keys(args.key)
        driver.find_element(By.CSS_SELECTOR, "#key-form button[type=submit]").click()
        wait_for("the key taken", lambda: "key set" in driver.find_element(By.ID, "key-state").text, 5)
        if driver.find_element(By.ID, "api-key").get_attribute("value"):
            fail("the key stays in the input after it was taken")
        open(args.accept_file, "w").close()
        delivery_id = int(driver.find_element(By.CSS_SELECTOR, "#dead button").get_attribute("data-delivery-id"))
        letter = next((d for d in dead["letters"] if d["delivery_id"] == delivery_id), None) or \
            next(d for d in status()["dead_letters"]["letters"] if d["delivery_id"] == delivery_id)
        retried = time.monotonic()
        # The list is redrawn when its dead letters change (new ones may still come): find the
        # button again if it was replaced under us.
        for attempt in range(5):
            try:
                driver.find_element(By.CSS_SELECTOR, f'#dead button[data-delivery-id="{delivery_id}"]').click()
                break
            except StaleElementReferenceException:
                if attempt == 4:
                    raise
                time.sleep(0.1)
        message = wait_for("the retry's answer on the page",
                           lambda: driver.find_element(By.ID, "message").text or None, 10)
        if "queued again" not in message:
            fail(f"the page says: {message!r}")

        def delivered():
            with open(args.receiver_log) as lines:
                return any(json.loads(line).get("event_id") == letter["event_id"] and json.loads(line).get("status") == 200
                           for line in lines if line.strip())

        wait_for(f"delivery {delivery_id} ({letter['event']} {letter['event_id']}) at the receiver", delivered, 20)
        log(f"dead letter {delivery_id} ({letter['event']}) retried from the page and delivered "
            f"{time.monotonic() - retried:.1f} s after the click; page said {message!r}")
        wait_for("the delivery on the page", lambda: any(
            d["delivery_id"] == delivery_id and d["result"] == "delivered" for d in status()["recent_deliveries"]), 10)

        # 5. The page as it stands, for the README's screenshot: best with a call waiting for its
        #    disposition too (generated traffic with rows), if one comes within a few seconds.
        deadline = time.monotonic() + 12
        while time.monotonic() < deadline and status()["calls_waiting"]["disposition"] == 0:
            time.sleep(0.5)
        time.sleep(1.2)
        errors = console_errors()
        if errors:
            fail(f"console errors: {errors}")
        os.makedirs(os.path.dirname(os.path.abspath(args.screenshot)), exist_ok=True)
        height = driver.execute_script("window.scrollTo(0, 0); return document.documentElement.scrollHeight")
        driver.set_window_size(1400, max(900, min(height + 40, 2600)))
        time.sleep(0.5)
        driver.save_screenshot(args.screenshot)
        log(f"screenshot saved to {args.screenshot}")
        print(json.dumps({"call_shown_seconds": round(shown_after, 1), "call_shown_in": where, "dead_letters": dead["count"],
                          "retried": delivery_id}))
    finally:
        driver.quit()
        for simulator in simulators:
            stop_simulator(simulator)


if __name__ == "__main__":
    main()
