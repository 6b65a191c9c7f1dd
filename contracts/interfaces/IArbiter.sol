// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IJobMarket} from "./IJobMarket.sol";

/// @title IArbiter
/// @notice A verification tier that decides disputes. The market asks it (a static call)
/// when anyone calls {IJobMarket-resolveDispute}; until it answers, the dispute waits, and
/// once the arbitration deadline passes the dispute unwinds without a verdict.
/// Tiers plug in behind this one function: an owner's ruling today, re-execution by other
/// workers or a ZK proof check later.
interface IArbiter {
    /// @notice The decision on a dispute.
    enum Verdict {
        Pending,
        WorkerWins,
        WorkerLoses
    }

    /// @notice The verdict on `jobId` of the calling market, given its full job tuple.
    function verdict(uint256 jobId, IJobMarket.Job calldata job) external view returns (Verdict);
}
