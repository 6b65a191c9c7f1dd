// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IJobMarket} from "./IJobMarket.sol";
import {IVerifier} from "./IVerifier.sol";

/// @title IReexecVerifier
/// @notice The re-execution verification mode (`reexec`, issue 14): after a submission a
/// committee of staked verifiers, drawn on-chain from a block after the submission, re-runs the
/// job and votes by commit and reveal; the majority decides, and the committee members who did
/// not reveal or voted against the majority lose their fee share and part of their bond.
///
/// A job's schedule counts from its submission time `t`: {draw} until `t + drawWindow`,
/// {commit} until `t + drawWindow + commitWindow`, {reveal} after every member committed or
/// the commit deadline passed, until `t + drawWindow + commitWindow + revealWindow` (the
/// reveal deadline, at most the challenge window). {settle} after the reveal deadline (or once
/// every member revealed) and after the market settled the job. Anyone may call {draw} and
/// {settle}, so no deadline waits on one party.
///
/// The same pool is the court of mode 0 ({CommitteeArbiter}): once a requester disputed a
/// mode-0 job, anyone may {openDispute} it, paying {disputeFee}. That round runs the same
/// schedule from the time it was opened and its majority is the dispute's verdict
/// ({disputeVerdict}); its fee was paid here, not escrowed in the market.
interface IReexecVerifier is IVerifier {
    /// @notice Where a job is in this module.
    enum Stage {
        None,
        Submitted,
        Drawn,
        Settled
    }

    /// @notice What the module recorded about a job at its submission (or, for a dispute
    /// round, when the round was opened: `submittedAt` and `submitBlock` are then the opening's).
    struct Round {
        address worker;
        uint40 submittedAt;
        uint48 submitBlock;
        Stage stage;
        address requester;
        uint96 fee;
        uint8 commits;
        uint8 agrees;
        uint8 disagrees;
        bool dispute;
    }

    /// @notice A pool member: its bond, when it may leave (0: it has not asked), and how many
    /// committees it sits on that are not settled yet.
    struct Member {
        uint128 bond;
        uint40 leaveAt;
        uint32 open;
        uint8 index;
    }

    /// @notice The module's fixed parameters (all immutable).
    /// @param committeeSize Verifiers drawn per job (k).
    /// @param minBond Least bond to join the pool and be drawn.
    /// @param feePerVerifier The verification fee is k times this.
    /// @param slashBps Part of its bond a member loses when it does not reveal or votes
    /// against the majority.
    /// @param drawWindow Seconds after a submission in which its committee may be drawn.
    /// @param commitWindow Seconds after the draw window in which members commit.
    /// @param revealWindow Seconds after the commit window in which members reveal.
    /// @param challengeWindow The market's window; at least the three windows above.
    /// @param arbitrationWindow Seconds the module has to decide a dispute.
    /// @param leaveDelay Seconds between {requestLeave} and {leave}.
    struct Params {
        uint8 committeeSize;
        uint96 minBond;
        uint96 feePerVerifier;
        uint16 slashBps;
        uint32 drawWindow;
        uint32 commitWindow;
        uint32 revealWindow;
        uint32 challengeWindow;
        uint32 arbitrationWindow;
        uint32 leaveDelay;
    }

    // --- errors -------------------------------------------------------------------------

    /// @notice Thrown when the parameters are out of their bounds.
    error ReexecBadParams();
    /// @notice Thrown when anyone but the market this module serves calls a market hook.
    error ReexecNotMarket(address caller);
    /// @notice Thrown when a job is priced in a token: fees are in ETH, as bonds are.
    error ReexecEthOnly(address token);
    /// @notice Thrown when fewer than `needed` pool members can be drawn (`have`).
    error ReexecPoolTooSmall(uint256 have, uint256 needed);
    /// @notice Thrown when the pool already has MAX_POOL members.
    error ReexecPoolFull();
    /// @notice Thrown when a new member's bond is below `minBond`.
    error ReexecBondTooLow(uint256 bond, uint256 minBond);
    /// @notice Thrown when `account` is not a pool member.
    error ReexecNotMember(address account);
    /// @notice Thrown when a member asks to leave twice, or leaves without asking.
    error ReexecLeaveState(address account, uint40 leaveAt);
    /// @notice Thrown when a member leaves before `leaveAt`.
    error ReexecLeaveTooEarly(address account, uint40 leaveAt);
    /// @notice Thrown when a member leaves while on `open` committees not settled yet.
    error ReexecStillAssigned(address account, uint32 open);
    /// @notice Thrown when a job is not at the stage an action needs.
    error ReexecWrongStage(uint256 jobId, Stage stage);
    /// @notice Thrown when a job's committee is drawn before block `seedBlock` was mined.
    error ReexecDrawTooEarly(uint256 jobId, uint256 seedBlock);
    /// @notice Thrown when an action comes after its `deadline`.
    error ReexecClosed(uint256 jobId, uint40 deadline);
    /// @notice Thrown when an action comes before the phase it needs opened (at `deadline`).
    error ReexecNotYet(uint256 jobId, uint40 deadline);
    /// @notice Thrown when `account` is not on the job's committee.
    error ReexecNotOnCommittee(uint256 jobId, address account);
    /// @notice Thrown when a member commits twice or with a reserved hash.
    error ReexecBadCommit(uint256 jobId, address account);
    /// @notice Thrown when a member reveals without a commitment, twice, or a vote that does
    /// not match its commitment.
    error ReexecBadReveal(uint256 jobId, address account);
    /// @notice Thrown when a job is settled before the market settled it.
    error ReexecMarketNotSettled(uint256 jobId);
    /// @notice Thrown when there is nothing to withdraw.
    error ReexecNothingToWithdraw(address account);
    /// @notice Thrown when ETH comes from anyone but the market.
    error ReexecUnexpectedEth(address from);
    /// @notice Thrown when a dispute round is opened for a tuple that is not the market's job.
    error ReexecJobMismatch(uint256 jobId);
    /// @notice Thrown when a dispute round is opened for a job that is not disputed.
    error ReexecNotDisputed(uint256 jobId);
    /// @notice Thrown when a dispute round is opened for a job whose mode's disputes this
    /// module does not judge (its module is not a {CommitteeArbiter} naming this module).
    error ReexecNotCourtOf(uint256 jobId, address module);
    /// @notice Thrown when a dispute round is opened with another amount than {disputeFee}.
    error ReexecWrongFee(uint256 sent, uint256 fee);
    /// @notice Thrown when a dispute round opened now could not end before the market's
    /// arbitration deadline: it had to be opened by `latest`.
    error ReexecDisputeTooLate(uint256 jobId, uint256 latest);

    // --- events -------------------------------------------------------------------------

    /// @notice A member joined with `bond`, or topped its bond up to `bond`.
    event MemberBonded(address indexed verifier, uint256 bond);
    /// @notice A member asked to leave; it is never drawn again and may leave at `leaveAt`.
    event LeaveRequested(address indexed verifier, uint40 leaveAt);
    /// @notice A member left; its `bond` was credited to its balance.
    event MemberLeft(address indexed verifier, uint256 bond);
    /// @notice A submission was recorded; its committee is drawn from `seedBlock`'s hash.
    event SubmissionRecorded(
        uint256 indexed jobId, address indexed worker, address requester, uint96 fee, uint256 seedBlock
    );
    /// @notice `opener` paid `fee` to have `jobId`'s dispute judged; its committee is drawn
    /// from `seedBlock`'s hash.
    event DisputeRoundOpened(uint256 indexed jobId, address indexed opener, uint96 fee, uint256 seedBlock);
    /// @notice A job's committee was drawn from `seedBlock`'s hash.
    event CommitteeDrawn(uint256 indexed jobId, address[] committee, uint256 seedBlock);
    /// @notice A member committed to its vote.
    event VoteCommitted(uint256 indexed jobId, address indexed verifier);
    /// @notice A member revealed its vote: `agrees` means the result is right.
    event VoteRevealed(uint256 indexed jobId, address indexed verifier, bool agrees);
    /// @notice A member lost its fee share and `slashed` of its bond.
    event MemberPenalised(uint256 indexed jobId, address indexed verifier, uint256 slashed);
    /// @notice A job was settled: `winners` members voted with the majority and shared
    /// `paid` (fee and slashes); `toRequester` went back to the requester.
    event RoundSettled(uint256 indexed jobId, uint256 winners, uint256 paid, uint256 toRequester);
    /// @notice `amount` was credited to `account`'s balance here.
    event Credited(address indexed account, uint256 amount);
    /// @notice `account` withdrew `amount`.
    event Withdrawn(address indexed account, uint256 amount);

    // --- pool ---------------------------------------------------------------------------

    /// @notice Join the pool with msg.value as bond (at least `minBond`), or add to a member's
    /// bond. Emits {MemberBonded}.
    function join() external payable;

    /// @notice Stop being drawn; {leave} is possible `leaveDelay` later. Emits {LeaveRequested}.
    function requestLeave() external;

    /// @notice Leave the pool once the delay passed and no committee of the caller is
    /// unsettled; the bond is credited to the caller's balance. Emits {MemberLeft}.
    function leave() external;

    /// @notice Send the caller its whole balance here (bond after leaving, fees, slashes).
    /// Emits {Withdrawn}.
    function withdraw() external;

    // --- rounds -------------------------------------------------------------------------

    /// @notice Draw `jobId`'s committee (anyone, once block `submitBlock + 1` is mined and
    /// within the draw window). Emits {CommitteeDrawn}.
    function draw(uint256 jobId) external;

    /// @notice Commit to a vote: `commitment` is {voteHash} of the vote and a secret salt.
    /// Emits {VoteCommitted}.
    function commit(uint256 jobId, bytes32 commitment) external;

    /// @notice Reveal the committed vote. Emits {VoteRevealed}.
    function reveal(uint256 jobId, bool agrees, bytes32 salt) external;

    /// @notice Open the dispute round of `jobId` (anyone, typically its requester), a
    /// disputed job of the market whose mode's module is a {CommitteeArbiter} naming this
    /// module's mode. msg.value must be {disputeFee}. The worker and the requester are left
    /// out of the committee. Requirements: no round for `jobId` yet; `job` is the market's
    /// tuple; the pool can seat a committee; the round can end (draw, commit and reveal
    /// windows, then one more reveal window to resolve the dispute) before the market's
    /// arbitration deadline. Emits {DisputeRoundOpened}.
    function openDispute(uint256 jobId, IJobMarket.Job calldata job) external payable;

    /// @notice Pay the round out (anyone): pulls the job's fee from the market (a dispute
    /// round's was paid here) and credits it and the slashes. Emits {RoundSettled}, and
    /// {MemberPenalised} per losing member.
    function settle(uint256 jobId) external;

    // --- reads --------------------------------------------------------------------------

    /// @notice The commitment of `verifier`'s vote on `jobId`.
    function voteHash(uint256 jobId, address verifier, bool agrees, bytes32 salt)
        external
        view
        returns (bytes32);

    /// @notice What the module recorded about `jobId`.
    function roundOf(uint256 jobId) external view returns (Round memory);

    /// @notice The committee of `jobId` (empty before the draw).
    function committeeOf(uint256 jobId) external view returns (address[] memory);

    /// @notice `verifier`'s vote slot on `jobId`: 0 none, 1 revealed agree, 2 revealed
    /// disagree, else its commitment.
    function voteOf(uint256 jobId, address verifier) external view returns (bytes32);

    /// @notice `account`'s pool membership (zero when not a member).
    function memberOf(address account) external view returns (Member memory);

    /// @notice The pool, in storage order.
    function pool() external view returns (address[] memory);

    /// @notice `account`'s withdrawable balance here.
    function balanceOf(address account) external view returns (uint256);

    /// @notice The module's fixed parameters.
    function params() external view returns (Params memory);

    /// @notice The market this module serves: fixed at deployment.
    function market() external view returns (address);

    /// @notice What opening a dispute round costs (ETH): k times `feePerVerifier`.
    function disputeFee() external view returns (uint96);

    /// @notice The verdict of `jobId`'s dispute round: the majority of the whole committee,
    /// `Pending` without one (or when `jobId` has no dispute round).
    function disputeVerdict(uint256 jobId) external view returns (Verdict);
}
