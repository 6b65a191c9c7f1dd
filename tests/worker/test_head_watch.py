"""The head watcher wakes the node's loop once per new block, and its settings."""

from __future__ import annotations

import threading

from inferchain.chain import Chain
from inferchain.worker.head_watch import HeadWatch
from inferchain.worker.settings import LOCAL_HEAD_POLL_S, WorkerSettings
from tests.conftest import AnvilNode
from tests.worker.helpers import wait_until


def test_a_new_head_wakes_the_loop_once(chain: Chain, anvil: AnvilNode) -> None:
    wakes: list[int] = []
    woken = threading.Event()

    def wake() -> None:
        wakes.append(chain.w3.eth.block_number)
        woken.set()

    watch = HeadWatch(Chain(anvil.rpc_url), 0.01, wake)
    watch.start()
    try:
        wait_until(woken.is_set, 5, "the first head seen")
        seen = len(wakes)
        woken.clear()
        chain.mine()
        wait_until(woken.is_set, 5, "the new head seen")
        assert len(wakes) == seen + 1  # once per block, not once per poll
        woken.clear()
        assert not woken.wait(0.1)  # no new block: no wake-up
    finally:
        watch.stop()


def test_head_poll_is_short_locally_and_off_elsewhere_unless_set() -> None:
    dev = "0x" + "11" * 32
    assert WorkerSettings().head_poll() == LOCAL_HEAD_POLL_S
    assert WorkerSettings(mode="production", private_key=dev).head_poll() is None
    assert WorkerSettings(mode="production", private_key=dev, head_poll_s=1.5).head_poll() == 1.5
    assert WorkerSettings(head_poll_s=0).head_poll() is None
