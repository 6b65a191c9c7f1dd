// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IJobMarket} from "../interfaces/IJobMarket.sol";
import {IVerifier} from "../interfaces/IVerifier.sol";

/// @title MockVerifier
/// @notice Test verification mode with every hook: its flags and windows are fixed at
/// deployment (a market reads them once), its fee and verdicts are set by anyone, and it
/// records what the market showed it, so tests can check each hook and outcome.
contract MockVerifier is IVerifier {
    uint32 private immutable _CHALLENGE_WINDOW;
    uint32 private immutable _ARBITRATION_WINDOW;
    uint8 private immutable _HOOKS;

    /// @notice What {quote} answers.
    uint96 public fee;
    /// @notice What {onSubmit} answers.
    Verdict public submitVerdict;
    /// @notice How many times {onSubmit} was called.
    uint256 public submitCalls;
    /// @notice The hash of the last tuple and the last proof {onSubmit} saw.
    bytes32 public lastJobHash;
    bytes public lastProof;
    mapping(uint256 jobId => Verdict) private _verdicts;

    constructor(uint32 challengeWindow_, uint32 arbitrationWindow_, uint8 hooks_) {
        _CHALLENGE_WINDOW = challengeWindow_;
        _ARBITRATION_WINDOW = arbitrationWindow_;
        _HOOKS = hooks_;
    }

    /// @notice Sets the fee {quote} answers.
    function setFee(uint96 fee_) external {
        fee = fee_;
    }

    /// @notice Sets the verdict {onSubmit} answers.
    function setSubmitVerdict(Verdict verdict_) external {
        submitVerdict = verdict_;
    }

    /// @notice Sets the verdict {verdict} answers for `jobId`.
    function setVerdict(uint256 jobId, Verdict verdict_) external {
        _verdicts[jobId] = verdict_;
    }

    /// @notice Takes this module's fees out of `market` (as a real module pays verifiers).
    function withdrawFees(IJobMarket market, address token, address to, uint256 amount) external {
        market.withdraw(token, to, amount);
    }

    /// @inheritdoc IVerifier
    function challengeWindow() external view returns (uint32) {
        return _CHALLENGE_WINDOW;
    }

    /// @inheritdoc IVerifier
    function arbitrationWindow() external view returns (uint32) {
        return _ARBITRATION_WINDOW;
    }

    /// @inheritdoc IVerifier
    function hooks() external view returns (uint8) {
        return _HOOKS;
    }

    /// @inheritdoc IVerifier
    function quote(address, uint32, address, uint96) external view returns (uint96) {
        return fee;
    }

    /// @inheritdoc IVerifier
    function onSubmit(uint256, IJobMarket.Job calldata job, bytes calldata proof)
        external
        returns (Verdict)
    {
        submitCalls += 1;
        lastJobHash = keccak256(abi.encode(job));
        lastProof = proof;
        return submitVerdict;
    }

    /// @inheritdoc IVerifier
    function verdict(uint256 jobId, IJobMarket.Job calldata) external view returns (Verdict) {
        return _verdicts[jobId];
    }
}
