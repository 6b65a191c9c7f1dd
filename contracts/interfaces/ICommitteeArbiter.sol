// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IReexecVerifier} from "./IReexecVerifier.sol";
import {IVerifier} from "./IVerifier.sol";

/// @title ICommitteeArbiter
/// @notice A verification mode without hooks (optimistic: a result stands unless its requester
/// disputes it in the challenge window) whose disputes are judged by a committee of bonded
/// verifiers: the pool of the {IReexecVerifier} registered in the same market under
/// {courtMode}. No key rules. See {IReexecVerifier-openDispute} for how a dispute reaches
/// the committee, and {IJobMarket-expireDispute} for a dispute no committee decided.
interface ICommitteeArbiter is IVerifier {
    /// @notice The mode id, in the calling market, of the module whose pool judges disputes.
    function courtMode() external view returns (uint8);

    /// @notice The court of `market`: its module under {courtMode} (zero when none), which
    /// judges only when it serves `market`.
    function courtOf(address market) external view returns (IReexecVerifier);

    /// @notice The verdict on `jobId` of `market`, as {IVerifier-verdict} gives it to `market`.
    function verdictOf(address market, uint256 jobId) external view returns (Verdict);
}
