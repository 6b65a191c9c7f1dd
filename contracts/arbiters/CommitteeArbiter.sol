// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IJobMarket} from "../interfaces/IJobMarket.sol";
import {IJobMarketAdmin} from "../interfaces/IJobMarketAdmin.sol";
import {ICommitteeArbiter} from "../interfaces/ICommitteeArbiter.sol";
import {IReexecVerifier} from "../interfaces/IReexecVerifier.sol";
import {IVerifier} from "../interfaces/IVerifier.sol";
import {MarketBounds} from "../libraries/MarketBounds.sol";

/// @title CommitteeArbiter
/// @notice Verification mode 0 by default (issue 14): the optimistic tier, `none`, whose
/// disputes no single key decides. A disputed job's dispute round is opened in the market's
/// {ReexecVerifier} ({IReexecVerifier-openDispute}), whose drawn committee re-runs the job and
/// votes; its majority is this module's verdict. Stateless: it holds no money and no rulings,
/// and answers any market from that market's own registered court, so one deployment may
/// serve several markets. Caveats a user must know:
/// - No committee (the dispute round not opened in time, a pool too small, a split or silent
///   committee) decides nothing: the market's arbitration deadline passes and the result
///   stands ({IJobMarket-expireDispute}), the dispute bond going back, as with a silent
///   ManualArbiter.
/// - The arbitration window must leave room for the court's draw, commit and reveal windows
///   after the dispute; {IReexecVerifier-openDispute} refuses a round that could not end in
///   time. The deployment checks the windows against each other.
contract CommitteeArbiter is ICommitteeArbiter {
    uint8 private immutable _COURT_MODE;
    uint32 private immutable _CHALLENGE_WINDOW;
    uint32 private immutable _ARBITRATION_WINDOW;

    /// @param courtMode_ The mode id of the re-execution module whose pool judges disputes.
    /// @param challengeWindow_ Seconds to dispute a result; the governor accepts 10 min..7 days.
    /// @param arbitrationWindow_ Seconds to decide a dispute; the governor accepts 1..14 days.
    constructor(uint8 courtMode_, uint32 challengeWindow_, uint32 arbitrationWindow_) {
        MarketBounds.check(challengeWindow_, MarketBounds.MIN_CHALLENGE_WINDOW, MarketBounds.MAX_CHALLENGE_WINDOW);
        MarketBounds.check(
            arbitrationWindow_, MarketBounds.MIN_ARBITRATION_WINDOW, MarketBounds.MAX_ARBITRATION_WINDOW
        );
        _COURT_MODE = courtMode_;
        _CHALLENGE_WINDOW = challengeWindow_;
        _ARBITRATION_WINDOW = arbitrationWindow_;
    }

    /// @inheritdoc ICommitteeArbiter
    function courtMode() external view returns (uint8) {
        return _COURT_MODE;
    }

    /// @inheritdoc ICommitteeArbiter
    function courtOf(address market) public view returns (IReexecVerifier) {
        return IReexecVerifier(address(IJobMarketAdmin(market).modeOf(_COURT_MODE).module));
    }

    /// @inheritdoc ICommitteeArbiter
    function verdictOf(address market, uint256 jobId) public view returns (Verdict) {
        IReexecVerifier court = courtOf(market);
        // A court serving another market would answer about another job with this id.
        if (address(court) == address(0) || court.market() != market) return Verdict.Pending;
        return court.disputeVerdict(jobId);
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
    /// @dev No hook: disputes only, no fee escrowed with the job (a dispute round's fee is
    /// paid when it is opened), nothing checked at submission.
    function hooks() external pure returns (uint8) {
        return 0;
    }

    /// @inheritdoc IVerifier
    function quote(address, uint32, address, uint96) external pure returns (uint96) {
        return 0;
    }

    /// @inheritdoc IVerifier
    /// @dev Never called (no `ON_SUBMIT` flag); a result stands unless a committee decides.
    function onSubmit(uint256, IJobMarket.Job calldata, bytes calldata) external pure returns (Verdict) {
        return Verdict.Pending;
    }

    /// @inheritdoc IVerifier
    function verdict(uint256 jobId, IJobMarket.Job calldata) external view returns (Verdict) {
        return verdictOf(msg.sender, jobId);
    }
}
