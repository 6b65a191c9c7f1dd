"""Follow the market's contracts into the database, behind a confirmation depth.

Each ``step`` first checks that the last committed block is still canonical (its stored
hash against the chain's); on a mismatch it rolls back to the newest stored block that
still matches and rebuilds what the dropped logs fed. Otherwise it indexes the next range
of confirmed blocks. Every step commits once, in ``_commit_range`` or ``_rollback``, and
logs are unique by (tx hash, log index), so a crash between steps or a restart resumes
from the cursor without duplicates.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from hexbytes import HexBytes
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker
from web3.exceptions import BlockNotFound

from inferchain.errors import ConfigError
from inferchain.gateway.db.models import Balance, ChainLog, Checkpoint, IndexerCursor
from inferchain.gateway.indexer import projector
from inferchain.gateway.indexer.balances import refresh_balances
from inferchain.gateway.indexer.events import DecodedLog, LogDecoder
from inferchain.gateway.market.contracts import MarketContracts
from inferchain.gateway.metrics import GatewayMetrics
from inferchain.gateway.settings import GatewaySettings

log = logging.getLogger(__name__)

_KEEP_CHECKPOINTS = 256


@dataclass(frozen=True)
class StepResult:
    from_block: int
    to_block: int
    logs: int
    reorg_to: int | None = None

    @property
    def caught_up(self) -> bool:
        """Nothing was left to index (no new confirmed block, no reorg to undo)."""
        return self.reorg_to is None and self.to_block < self.from_block


class Indexer:
    def __init__(
        self,
        contracts: MarketContracts,
        sessions: sessionmaker[Session],
        *,
        deployment_block: int,
        confirmations: int = 0,
        batch_blocks: int = 2000,
        metrics: GatewayMetrics | None = None,
    ) -> None:
        self.contracts = contracts
        self.sessions = sessions
        self.deployment_block = deployment_block
        self.confirmations = confirmations
        self.batch_blocks = batch_blocks
        self.metrics = metrics or GatewayMetrics()
        self.decoder = LogDecoder(contracts)
        self._w3 = contracts.chain.w3
        self._market = contracts.market.address

    @classmethod
    def configured(
        cls,
        contracts: MarketContracts,
        sessions: sessionmaker[Session],
        settings: GatewaySettings,
        metrics: GatewayMetrics,
    ) -> Indexer:
        """The indexer a gateway's settings describe (its thread's, or `gateway index`)."""
        return cls(
            contracts,
            sessions,
            deployment_block=settings.deployment_block,
            confirmations=settings.confirmations,
            batch_blocks=settings.index_batch_blocks,
            metrics=metrics,
        )

    # --- public ---------------------------------------------------------------------------

    def cursor(self) -> tuple[int, str | None]:
        """(last committed block, its hash); before the first step, deployment block - 1."""
        with self.sessions() as session:
            row = session.get(IndexerCursor, self._market)
            if row is None:
                other = session.scalar(select(IndexerCursor.market).limit(1))
                if other is not None:
                    raise ConfigError(
                        f"this database indexes market {other}, not {self._market}; "
                        "use a fresh database for another deployment"
                    )
                return self.deployment_block - 1, None
            return row.block_number, row.block_hash

    def step(self) -> StepResult:
        """Roll back a reorg, or index the next confirmed range; one commit either way."""
        number, stored_hash = self.cursor()
        if stored_hash is not None and self._hash_of(number) != stored_hash:
            return self._rollback(number)
        head = self._w3.eth.block_number
        safe = head - self.confirmations
        self.metrics.indexer_lag.set(max(0, head - number))
        if safe <= number:
            return StepResult(number + 1, number, 0)
        to_block = min(safe, number + self.batch_blocks)
        return self._commit_range(number + 1, to_block)

    def sync(self, max_steps: int = 10_000) -> int:
        """Step until caught up with the confirmed head; the number of the last block indexed."""
        for _ in range(max_steps):
            if self.step().caught_up:
                break
        return self.cursor()[0]

    # --- ranges ---------------------------------------------------------------------------

    def _commit_range(self, from_block: int, to_block: int) -> StepResult:
        raw = self._w3.eth.get_logs(
            {"fromBlock": from_block, "toBlock": to_block, "address": self.decoder.addresses}
        )
        end = self._w3.eth.get_block(to_block)
        logs = self.decoder.decode(raw)
        times = self._block_times(logs)
        if times is None:  # a log's block was replaced while we read: try again next step
            return StepResult(from_block, from_block - 1, 0)
        end_hash = HexBytes(end["hash"]).to_0x_hex()
        with self.sessions() as session, session.begin():
            touched: set[tuple[str, str]] = set()
            stored = 0
            for item in logs:
                if self._store(session, item, times[item.block_number]):
                    touched |= projector.apply(session, item, times[item.block_number])
                    session.flush()
                    stored += 1
            refresh_balances(session, self.contracts, touched, to_block)
            session.merge(Checkpoint(block_number=to_block, block_hash=end_hash))
            session.execute(
                delete(Checkpoint).where(Checkpoint.block_number < to_block - _KEEP_CHECKPOINTS)
            )
            self._set_cursor(session, to_block, end_hash)
        self.metrics.logs_indexed.inc(stored)
        self.metrics.indexed_block.set(to_block)
        return StepResult(from_block, to_block, stored)

    def _store(self, session: Session, item: DecodedLog, block_time: int) -> bool:
        """Insert the log unless (tx hash, log index) is there already."""
        exists = session.scalar(
            select(ChainLog.id).where(
                ChainLog.tx_hash == item.tx_hash, ChainLog.log_index == item.log_index
            )
        )
        if exists is not None:
            return False
        session.add(
            ChainLog(
                block_number=item.block_number,
                block_hash=item.block_hash,
                block_time=block_time,
                tx_hash=item.tx_hash,
                log_index=item.log_index,
                contract=item.contract,
                event=item.event,
                entity=item.entity,
                job_id=item.job_id,
                args=item.args,
            )
        )
        return True

    def _block_times(self, logs: list[DecodedLog]) -> dict[int, int] | None:
        times: dict[int, int] = {}
        for number in sorted({item.block_number for item in logs}):
            block = self._w3.eth.get_block(number)
            hashes = {item.block_hash for item in logs if item.block_number == number}
            if hashes != {HexBytes(block["hash"]).to_0x_hex()}:
                return None
            times[number] = int(block["timestamp"])
        return times

    # --- reorgs ---------------------------------------------------------------------------

    def _rollback(self, cursor_block: int) -> StepResult:
        fork = self._fork_point(cursor_block)
        with self.sessions() as session, session.begin():
            entities = set(
                session.scalars(select(ChainLog.entity).where(ChainLog.block_number > fork[0]))
            )
            session.execute(delete(ChainLog).where(ChainLog.block_number > fork[0]))
            session.execute(delete(Checkpoint).where(Checkpoint.block_number > fork[0]))
            touched: set[tuple[str, str]] = set()
            for entity in sorted(entities):
                touched |= projector.rebuild(session, entity)
                if entity.startswith("account:"):
                    rows = session.execute(
                        select(Balance.account, Balance.token).where(
                            Balance.account == entity.partition(":")[2]
                        )
                    )
                    touched |= {(account, token) for account, token in rows}
            if fork[0] >= self.deployment_block:
                refresh_balances(session, self.contracts, touched, fork[0])
            else:
                session.execute(delete(Balance))
            self._set_cursor(session, fork[0], fork[1])
        self.metrics.reorgs.inc()
        self.metrics.indexed_block.set(fork[0])
        log.warning("reorg: rolled back from block %d to %d", cursor_block, fork[0])
        return StepResult(fork[0] + 1, cursor_block, 0, reorg_to=fork[0])

    def _fork_point(self, cursor_block: int) -> tuple[int, str | None]:
        """The newest stored (block, hash) the chain still agrees with."""
        with self.sessions() as session:
            checkpoints = session.execute(
                select(Checkpoint.block_number, Checkpoint.block_hash).where(
                    Checkpoint.block_number < cursor_block
                )
            ).all()
            log_blocks = session.execute(
                select(ChainLog.block_number, func.min(ChainLog.block_hash))
                .where(ChainLog.block_number < cursor_block)
                .group_by(ChainLog.block_number)
            ).all()
            candidates = sorted({(n, h) for n, h in [*checkpoints, *log_blocks]}, reverse=True)
        for number, block_hash in candidates:
            if self._hash_of(number) == block_hash:
                return number, block_hash
        return self.deployment_block - 1, None

    def _hash_of(self, number: int) -> str | None:
        try:
            block = self._w3.eth.get_block(number)
        except BlockNotFound:  # the chain is now shorter than that
            return None
        return HexBytes(block["hash"]).to_0x_hex()

    def _set_cursor(self, session: Session, number: int, block_hash: str | None) -> None:
        session.merge(
            IndexerCursor(
                market=self._market,
                block_number=number,
                block_hash=block_hash,
                updated_at=int(time.time()),
            )
        )
