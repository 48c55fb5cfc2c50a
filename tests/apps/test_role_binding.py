"""A role speaks only from the node it runs on: the runtime binds each application role to its node.

Every classical channel is authenticated per pair of nodes, which proves which *node* sent a
message, not which *role*: a third node holds its own genuine keys. So the transport layer checks
an ``AppMessage``'s (and a ``TeleportRecord``'s) claimed ``from_role`` against the node the
session runs that role on, and drops and counts a message from any other node.
"""

from __future__ import annotations

from qstack.apps import Application
from qstack.apps.runtime import run_app
from qstack.proto import AppMessage, TeleportRecord
from qstack.scenario import linear_chain, load_scenario
from qstack.stages import Stage


class Impostor(Application):
    """``mallory`` (on the repeater) sends bob a message claiming to be alice before alice speaks."""

    name = "impostor"
    stage = Stage.TRUSTED_REPEATER
    roles = ("alice", "bob", "mallory")

    async def alice(self, ctx):
        await ctx.sleep(1e-3)
        ctx.send("bob", b"from alice")

    async def bob(self, ctx):
        return await ctx.recv("alice")

    async def mallory(self, ctx):
        rt = ctx.transport.rt
        bob = ctx.transport.node_of["bob"]
        rt.send(bob, AppMessage(session=ctx.session.id, from_role="alice", to_role="bob", payload=b"forged"))
        rt.send(bob, TeleportRecord(session=ctx.session.id, from_role="alice", to_role="bob", transfer_id=1,
                                    outcome=3))


def test_a_third_nodes_message_claiming_to_be_alice_is_not_delivered_to_bob_as_alices():
    result = run_app(Impostor(), load_scenario(linear_chain(3, seed=1)),
                     {"alice": "n0", "bob": "n2", "mallory": "n1"})
    assert result.results["bob"] == b"from alice"
    rejected = result.network.stacks["n2"].rejected
    assert rejected == {"AppMessage from a node the claimed role does not run on": 1,
                        "TeleportRecord from a node the claimed role does not run on": 1}
    assert all(not stack.rejected for name, stack in result.network.stacks.items() if name != "n2")
