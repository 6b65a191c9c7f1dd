// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {IJobMarket} from "../interfaces/IJobMarket.sol";
import {IVerifier} from "../interfaces/IVerifier.sol";

/// @title ManualArbiter
/// @notice Verification mode 0: its owner (a person or a multisig, never the protocol's
/// proposer) rules on disputes by hand and the ruling is applied at once. Rulings are final.
/// The windows are fixed at deployment. If the owner stays silent past the market's
/// arbitration deadline, the result stands: the worker is paid and the bond goes back.
contract ManualArbiter is IVerifier, Ownable2Step {
    uint32 private immutable _CHALLENGE_WINDOW;
    uint32 private immutable _ARBITRATION_WINDOW;

    mapping(address market => mapping(uint256 jobId => Verdict)) private _rulings;

    /// @notice Thrown when a dispute is ruled on twice.
    error ManualArbiterAlreadyRuled(address market, uint256 jobId);

    /// @notice Emitted when the owner ruled on `jobId` of `market`.
    event Ruled(address indexed market, uint256 indexed jobId, bool workerWins);

    /// @param initialOwner Who rules (keep it apart from the protocol's proposers).
    /// @param challengeWindow_ Seconds to dispute a result; the governor accepts 10 min..7 days.
    /// @param arbitrationWindow_ Seconds to rule; the governor accepts 1..14 days.
    constructor(address initialOwner, uint32 challengeWindow_, uint32 arbitrationWindow_)
        Ownable(initialOwner)
    {
        _CHALLENGE_WINDOW = challengeWindow_;
        _ARBITRATION_WINDOW = arbitrationWindow_;
    }

    /// @notice Rule on a dispute and apply the ruling in `market` right away.
    /// Requirements: owner; not ruled before; the dispute is still open in the market (the
    /// market refuses a ruling after its arbitration deadline, or for another mode's job).
    /// Emits {Ruled}.
    function rule(IJobMarket market, uint256 jobId, IJobMarket.Job calldata job, bool workerWins)
        external
        onlyOwner
    {
        mapping(uint256 => Verdict) storage rulings = _rulings[address(market)];
        if (rulings[jobId] != Verdict.Pending) revert ManualArbiterAlreadyRuled(address(market), jobId);
        rulings[jobId] = workerWins ? Verdict.WorkerWins : Verdict.WorkerLoses;
        emit Ruled(address(market), jobId, workerWins);
        market.resolveDispute(jobId, job);
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
    /// @dev No hook: disputes only, no fee, nothing checked at submission.
    function hooks() external pure returns (uint8) {
        return 0;
    }

    /// @inheritdoc IVerifier
    function quote(address, uint32, address, uint96) external pure returns (uint96) {
        return 0;
    }

    /// @inheritdoc IVerifier
    /// @dev Never called (no `ON_SUBMIT` flag); a result stands until a ruling.
    function onSubmit(uint256, IJobMarket.Job calldata, bytes calldata) external pure returns (Verdict) {
        return Verdict.Pending;
    }

    /// @inheritdoc IVerifier
    function verdict(uint256 jobId, IJobMarket.Job calldata) external view returns (Verdict) {
        return _rulings[msg.sender][jobId];
    }

    /// @notice The ruling recorded for `jobId` of `market`.
    function rulingOf(address market, uint256 jobId) external view returns (Verdict) {
        return _rulings[market][jobId];
    }
}
