// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IInferenceConsumer
/// @notice A contract that asked for inference and wants the result pushed to it (AI oracle).
/// The market calls it once, when the job is finalized, with the gas stipend the job named.
/// A revert or running out of gas here never blocks payment; the result stays readable
/// through {IJobMarket-resultCid}.
interface IInferenceConsumer {
    /// @notice Called by the market with the finalized output CID (CIDv1, sha2-256).
    function onInferenceResult(uint256 jobId, bytes calldata outputCid) external;
}
