#!/usr/bin/env python3
"""Bitcoin Core's own validation code as an oracle for the Swift Bitcoin module.

Reads one JSON request on stdin and writes one JSON answer on stdout. Blocks are built with verystable (Bitcoin
Core's functional-test framework) and judged by py-bitcoinkernel (libbitcoinkernel: Core's consensus and block
validation, which enforces BIP68/BIP112 relative locks, BIP141 witnesses, NULLDUMMY, DER, ...). Nothing is
echoed: "accepted" means Core's chainstate manager made the block the new tip.

Requests:
  {"mode": "fund", "user_script": HEX, "blocks": N}
      Mines N regtest blocks whose coinbases pay `user_script`; answers their outpoints. Deterministic: the same
      request always gives the same chain (fixed times, fixed coinbase layout).
  {"mode": "validate", "user_script": HEX, "blocks": N, "steps": [...], "script_checks": [...]}
      Rebuilds the same chain, then for each step mines `empty_blocks_before` empty blocks and one block holding
      `txs` (raw hex, in order), and reports whether Core accepted that block. Each script check runs
      libbitcoinkernel's script interpreter on one input (P2SH, DERSIG, NULLDUMMY, CLTV, CSV, WITNESS flags).
"""
import json
import sys
import tempfile

import pbk
from verystable.core.blocktools import add_witness_commitment, create_block, create_coinbase
from verystable.core.messages import CTransaction, from_hex
from verystable.core.script import CScript

REGTEST_GENESIS_TIME = 1296688602


class Chain:
    def __init__(self, datadir):
        self.chainman = pbk.load_chainman(datadir, pbk.ChainType.REGTEST)
        tip = self.chainman.get_active_chain()
        self.height = tip.height
        self.tip_hash = int.from_bytes(bytes(self.chainman.best_entry.block_hash), "little")
        self.headers = []

    def tip_height(self):
        return self.chainman.get_active_chain().height

    def mine(self, txs, coinbase_script):
        height = self.height + 1
        coinbase = create_coinbase(height, script_pubkey=coinbase_script)
        block = create_block(self.tip_hash, coinbase, REGTEST_GENESIS_TIME + 600 * height, version=4, txlist=txs)
        if any(not tx.wit.is_null() for tx in block.vtx):
            add_witness_commitment(block)
        block.solve()
        raw = block.serialize()
        error = None
        try:
            self.chainman.process_block(pbk.Block(raw))
        except Exception as e:  # ProcessBlockException: Core refused the block
            error = f"{type(e).__name__}: {e}"
        accepted = self.tip_height() == height and int.from_bytes(bytes(self.chainman.best_entry.block_hash), "little") == block.sha256
        if accepted:
            self.height = height
            self.tip_hash = block.sha256
            self.headers.append(raw[:80].hex())
        return accepted, error, block, coinbase


def build_funding(chain, user_script, blocks):
    coinbases = []
    for _ in range(blocks):
        accepted, error, block, coinbase = chain.mine([], user_script)
        if not accepted:
            raise SystemExit(f"funding block {chain.height + 1} rejected: {error}")
        coinbases.append({"txid": coinbase.rehash(), "vout": 0, "value": coinbase.vout[0].nValue, "height": chain.height})
    return coinbases


def script_check(check):
    flags = (pbk.ScriptVerificationFlags.P2SH | pbk.ScriptVerificationFlags.DERSIG | pbk.ScriptVerificationFlags.NULLDUMMY
             | pbk.ScriptVerificationFlags.CHECKLOCKTIMEVERIFY | pbk.ScriptVerificationFlags.CHECKSEQUENCEVERIFY
             | pbk.ScriptVerificationFlags.WITNESS)
    spk = pbk.ScriptPubkey(bytes.fromhex(check["script_pubkey"]))
    tx = pbk.Transaction(bytes.fromhex(check["tx"]))
    try:
        return bool(spk.verify(check["amount"], tx, None, check["input"], flags))
    except pbk.ScriptVerifyException:
        return False


def main():
    request = json.load(sys.stdin)
    user_script = CScript(bytes.fromhex(request["user_script"]))
    with tempfile.TemporaryDirectory() as datadir:
        chain = Chain(datadir)
        coinbases = build_funding(chain, user_script, request["blocks"])
        if request["mode"] == "fund":
            json.dump({"coinbases": coinbases, "tip_height": chain.height}, sys.stdout)
            return
        results = []
        for step in request.get("steps", []):
            for _ in range(step.get("empty_blocks_before", 0)):
                ok, error, _, _ = chain.mine([], user_script)
                if not ok:
                    raise SystemExit(f"empty block rejected: {error}")
            txs = [from_hex(CTransaction(), h) for h in step["txs"]]
            accepted, error, block, _ = chain.mine(txs, user_script)
            results.append({"name": step["name"], "height": chain.height + (0 if accepted else 1), "accepted": accepted,
                            "error": error, "block_hash": block.hash,
                            "txids": [tx.rehash() for tx in block.vtx]})
        checks = [script_check(c) for c in request.get("script_checks", [])]
        json.dump({"steps": results, "script_checks": checks, "tip_height": chain.tip_height(),
                   "headers": chain.headers}, sys.stdout)
        chain.chainman = None


if __name__ == "__main__":
    main()
