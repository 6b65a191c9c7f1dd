// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {ICommitteeArbiter} from "../interfaces/ICommitteeArbiter.sol";
import {IJobMarket} from "../interfaces/IJobMarket.sol";
import {IJobMarketAdmin} from "../interfaces/IJobMarketAdmin.sol";
import {IReexecVerifier} from "../interfaces/IReexecVerifier.sol";
import {IVerifier, VerifierHooks} from "../interfaces/IVerifier.sol";
import {MarketBounds} from "../libraries/MarketBounds.sol";
import {TokenTransfer} from "../libraries/TokenTransfer.sol";

/// @title ReexecVerifier
/// @notice Verification mode `reexec`, the on-chain half: a committee of k bonded verifiers,
/// drawn after each submission, re-runs the job and votes by commit and reveal
/// ({IReexecVerifier} for the schedule). Caveats a user must know:
/// - Self-contained: verifiers bond here, in ETH, not in the registry v2 "venue" (not built
///   yet); fees are ETH only ({quote} refuses a token-priced job).
/// - One market: the market given at deployment, the only caller of the market hooks
///   and the only source of ETH besides bonds.
/// - The committee is drawn from the hash of the block after the submission's, so neither the
///   worker nor the requester knows it when the result is submitted, and both are excluded.
///   That block's proposer could bias the draw by withholding it. After 256 blocks that hash is
///   gone and the hash of the block before the draw is used instead: whoever draws then picks
///   the block, so draw in time (the requester, the most interested, may).
/// - Attack 1: an absent or split committee never decides against the worker. {verdict} stays
///   `Pending` and the market pays the worker at the end of the challenge window, which covers
///   draw, commit and reveal. The worker's slash on `WorkerLoses` is the market's.
/// - Members who do not reveal, or vote against the majority of revealed votes, lose their fee
///   share and `slashBps` of their bond to the members who voted with it (to the requester
///   when none did). A member whose bond falls below `minBond` is no longer drawn.
/// - Majority is of revealed votes for the pay, of the whole committee for the verdict.
/// - The court of mode 0: the same pool judges the disputes of a {CommitteeArbiter}'s jobs in
///   dispute rounds ({openDispute}), paid by their opener rather than escrowed in the market.
contract ReexecVerifier is IReexecVerifier, ReentrancyGuardTransient {
    /// @notice Most pool members: every draw walks at most this many.
    uint256 public constant MAX_POOL = 64;
    /// @notice Largest committee.
    uint256 public constant MAX_COMMITTEE = 15;
    /// @dev Vote slot markers once revealed; a commitment can never be either.
    bytes32 private constant AGREED = bytes32(uint256(1));
    bytes32 private constant DISAGREED = bytes32(uint256(2));

    /// @dev The one market this module serves, given at deployment.
    address private immutable _MARKET;
    uint8 private immutable _K;
    uint96 private immutable _MIN_BOND;
    uint96 private immutable _FEE_PER_VERIFIER;
    uint16 private immutable _SLASH_BPS;
    uint32 private immutable _DRAW_WINDOW;
    uint32 private immutable _COMMIT_WINDOW;
    uint32 private immutable _REVEAL_WINDOW;
    uint32 private immutable _CHALLENGE_WINDOW;
    uint32 private immutable _ARBITRATION_WINDOW;
    uint32 private immutable _LEAVE_DELAY;

    address[] private _pool;
    mapping(address account => Member) private _members;
    mapping(address account => uint256) private _balances;
    mapping(uint256 jobId => Round) private _rounds;
    mapping(uint256 jobId => address[]) private _committees;
    mapping(uint256 jobId => mapping(address verifier => bytes32)) private _votes;

    /// @param market_ The one market this module serves (deployed just after it: its address
    /// is predicted, as the market's constructor reads this module's windows and hooks).
    /// @param p The fixed parameters; the challenge window must cover the draw, commit and
    /// reveal windows, and the windows must be within the governor's bounds (10 min..7 days,
    /// 1..14 days).
    constructor(address market_, Params memory p) {
        MarketBounds.check(p.challengeWindow, MarketBounds.MIN_CHALLENGE_WINDOW, MarketBounds.MAX_CHALLENGE_WINDOW);
        MarketBounds.check(
            p.arbitrationWindow, MarketBounds.MIN_ARBITRATION_WINDOW, MarketBounds.MAX_ARBITRATION_WINDOW
        );
        if (
            p.committeeSize == 0 || p.committeeSize > MAX_COMMITTEE || p.minBond == 0 || p.slashBps > 10_000
                || p.drawWindow == 0 || p.commitWindow == 0 || p.revealWindow == 0
                || uint256(p.drawWindow) + p.commitWindow + p.revealWindow > p.challengeWindow
        ) revert ReexecBadParams();
        if (market_ == address(0)) revert ReexecBadParams();
        _MARKET = market_;
        _K = p.committeeSize;
        _MIN_BOND = p.minBond;
        _FEE_PER_VERIFIER = p.feePerVerifier;
        _SLASH_BPS = p.slashBps;
        _DRAW_WINDOW = p.drawWindow;
        _COMMIT_WINDOW = p.commitWindow;
        _REVEAL_WINDOW = p.revealWindow;
        _CHALLENGE_WINDOW = p.challengeWindow;
        _ARBITRATION_WINDOW = p.arbitrationWindow;
        _LEAVE_DELAY = p.leaveDelay;
    }

    /// @notice Accepts ETH from the market only: fees it pays out in {settle}.
    receive() external payable {
        if (msg.sender != market()) revert ReexecUnexpectedEth(msg.sender);
    }

    // --- pool -------------------------------------------------------------------------------

    /// @inheritdoc IReexecVerifier
    function join() external payable {
        Member storage m = _members[msg.sender];
        if (m.index == 0) {
            if (msg.value < _MIN_BOND) revert ReexecBondTooLow(msg.value, _MIN_BOND);
            if (_pool.length >= MAX_POOL) revert ReexecPoolFull();
            _pool.push(msg.sender);
            m.index = uint8(_pool.length); // position + 1; at most MAX_POOL
        }
        uint128 bond = m.bond + uint128(msg.value); // checked: reverts past 2^128 wei
        m.bond = bond;
        emit MemberBonded(msg.sender, bond);
    }

    /// @inheritdoc IReexecVerifier
    function requestLeave() external {
        Member storage m = _members[msg.sender];
        if (m.index == 0) revert ReexecNotMember(msg.sender);
        if (m.leaveAt != 0) revert ReexecLeaveState(msg.sender, m.leaveAt);
        uint40 leaveAt = uint40(block.timestamp) + _LEAVE_DELAY;
        m.leaveAt = leaveAt;
        emit LeaveRequested(msg.sender, leaveAt);
    }

    /// @inheritdoc IReexecVerifier
    function leave() external {
        Member memory m = _members[msg.sender];
        if (m.index == 0) revert ReexecNotMember(msg.sender);
        if (m.leaveAt == 0) revert ReexecLeaveState(msg.sender, 0);
        if (block.timestamp < m.leaveAt) revert ReexecLeaveTooEarly(msg.sender, m.leaveAt);
        if (m.open != 0) revert ReexecStillAssigned(msg.sender, m.open);
        uint256 last = _pool.length - 1;
        if (m.index - 1 != last) {
            address moved = _pool[last];
            _pool[m.index - 1] = moved;
            _members[moved].index = m.index;
        }
        _pool.pop();
        delete _members[msg.sender];
        _credit(msg.sender, m.bond);
        emit MemberLeft(msg.sender, m.bond);
    }

    /// @inheritdoc IReexecVerifier
    function withdraw() external nonReentrant {
        uint256 amount = _balances[msg.sender];
        if (amount == 0) revert ReexecNothingToWithdraw(msg.sender);
        _balances[msg.sender] = 0;
        emit Withdrawn(msg.sender, amount);
        TokenTransfer.push(address(0), msg.sender, amount);
    }

    // --- market hooks -----------------------------------------------------------------------

    /// @inheritdoc IVerifier
    /// @dev k × `feePerVerifier`, in ETH only; refuses a job while the pool has fewer than
    /// k + 2 members (a committee must leave out the worker and the requester). Members may
    /// still leave or fall below `minBond` before the draw: then {draw} reverts and the job is
    /// paid as unverified at the end of its window, its fee refunded ({settle}).
    function quote(address, uint32, address token, uint96) external view returns (uint96) {
        if (token != address(0)) revert ReexecEthOnly(token);
        if (_pool.length < uint256(_K) + 2) revert ReexecPoolTooSmall(_pool.length, uint256(_K) + 2);
        return disputeFee();
    }

    /// @inheritdoc IVerifier
    /// @dev Records the submission and returns `Pending`: the committee decides later.
    function onSubmit(uint256 jobId, IJobMarket.Job calldata job, bytes calldata)
        external
        returns (Verdict)
    {
        if (msg.sender != market()) revert ReexecNotMarket(msg.sender);
        Round storage r = _rounds[jobId];
        if (r.stage != Stage.None) revert ReexecWrongStage(jobId, r.stage);
        r.worker = job.worker;
        r.submittedAt = uint40(block.timestamp);
        r.submitBlock = uint48(block.number);
        r.stage = Stage.Submitted;
        r.requester = job.requester;
        r.fee = job.terms.verifyFee;
        emit SubmissionRecorded(jobId, job.worker, job.requester, job.terms.verifyFee, block.number + 1);
        return Verdict.Pending;
    }

    /// @inheritdoc IVerifier
    /// @dev A majority of the whole committee decides (so it can be final before the reveal
    /// deadline); anything less is `Pending`, which the market reads as the worker's.
    function verdict(uint256 jobId, IJobMarket.Job calldata) external view returns (Verdict) {
        Round storage r = _rounds[jobId];
        return r.dispute ? Verdict.Pending : _majority(r);
    }

    // --- rounds -----------------------------------------------------------------------------

    /// @inheritdoc IReexecVerifier
    /// @dev The round is a submission's in all but its source: the same schedule, counted from
    /// now, and the same draw, which leaves out the job's worker and requester.
    function openDispute(uint256 jobId, IJobMarket.Job calldata job) external payable nonReentrant {
        Round storage r = _rounds[jobId];
        if (r.stage != Stage.None) revert ReexecWrongStage(jobId, r.stage);
        uint96 fee = disputeFee();
        if (msg.value != fee) revert ReexecWrongFee(msg.value, fee);
        IJobMarket jobs = IJobMarket(market());
        if (!jobs.isJob(jobId, job)) revert ReexecJobMismatch(jobId);
        (IJobMarket.JobStatus status, uint40 arbitrationDeadline) = jobs.jobStatus(jobId);
        if (status != IJobMarket.JobStatus.Disputed) revert ReexecNotDisputed(jobId);
        address module = address(IJobMarketAdmin(address(jobs)).modeOf(job.terms.verification).module);
        if (!_isCourtOf(module)) revert ReexecNotCourtOf(jobId, module);
        // The round's windows, and one more reveal window for anyone to resolve the dispute
        // once its votes are in: a majority formed at the market's deadline would be lost.
        uint256 latest = uint256(arbitrationDeadline) - _DRAW_WINDOW - _COMMIT_WINDOW - 2 * uint256(_REVEAL_WINDOW);
        if (block.timestamp > latest) revert ReexecDisputeTooLate(jobId, latest);
        if (_pool.length < uint256(_K) + 2) revert ReexecPoolTooSmall(_pool.length, uint256(_K) + 2);
        r.worker = job.worker;
        r.submittedAt = uint40(block.timestamp);
        r.submitBlock = uint48(block.number);
        r.stage = Stage.Submitted;
        r.requester = job.requester;
        r.fee = fee;
        r.dispute = true;
        emit DisputeRoundOpened(jobId, msg.sender, fee, block.number + 1);
    }

    /// @inheritdoc IReexecVerifier
    /// @dev Fisher–Yates over the pool's positions, seeded by the block after the submission,
    /// stopping at k eligible members: at most MAX_POOL steps.
    function draw(uint256 jobId) external {
        Round storage r = _rounds[jobId];
        if (r.stage != Stage.Submitted) revert ReexecWrongStage(jobId, r.stage);
        uint256 seedBlock = uint256(r.submitBlock) + 1;
        if (block.number <= seedBlock) revert ReexecDrawTooEarly(jobId, seedBlock);
        uint40 deadline = r.submittedAt + _DRAW_WINDOW;
        if (block.timestamp > deadline) revert ReexecClosed(jobId, deadline);
        bytes32 hash = blockhash(seedBlock);
        if (hash == 0) {
            seedBlock = block.number - 1; // over 256 blocks later: see the contract's notes
            hash = blockhash(seedBlock);
        }
        bytes32 seed = keccak256(abi.encode(hash, address(this), jobId));
        uint256 n = _pool.length;
        uint256[] memory order = new uint256[](n);
        for (uint256 i; i < n; ++i) {
            order[i] = i;
        }
        address[] storage committee = _committees[jobId];
        (address worker, address requester) = (r.worker, r.requester);
        uint256 picked;
        for (uint256 i; i < n && picked < _K; ++i) {
            uint256 j = i + uint256(keccak256(abi.encode(seed, i))) % (n - i);
            (order[i], order[j]) = (order[j], order[i]);
            address candidate = _pool[order[i]];
            Member storage m = _members[candidate];
            if (candidate == worker || candidate == requester || m.leaveAt != 0 || m.bond < _MIN_BOND) {
                continue;
            }
            committee.push(candidate);
            m.open += 1;
            ++picked;
        }
        if (picked < _K) revert ReexecPoolTooSmall(picked, _K);
        r.stage = Stage.Drawn;
        emit CommitteeDrawn(jobId, committee, seedBlock);
    }

    /// @inheritdoc IReexecVerifier
    function commit(uint256 jobId, bytes32 commitment) external {
        Round storage r = _rounds[jobId];
        if (r.stage != Stage.Drawn) revert ReexecWrongStage(jobId, r.stage);
        uint40 deadline = _commitDeadline(r);
        if (block.timestamp > deadline) revert ReexecClosed(jobId, deadline);
        if (!_onCommittee(jobId, msg.sender)) revert ReexecNotOnCommittee(jobId, msg.sender);
        if (_votes[jobId][msg.sender] != 0 || uint256(commitment) <= uint256(DISAGREED)) {
            revert ReexecBadCommit(jobId, msg.sender);
        }
        _votes[jobId][msg.sender] = commitment;
        r.commits += 1;
        emit VoteCommitted(jobId, msg.sender);
    }

    /// @inheritdoc IReexecVerifier
    /// @dev Opens once every member committed (nothing is left to copy) or the commit
    /// deadline passed.
    function reveal(uint256 jobId, bool agrees, bytes32 salt) external {
        Round storage r = _rounds[jobId];
        if (r.stage != Stage.Drawn) revert ReexecWrongStage(jobId, r.stage);
        uint40 commitDeadline = _commitDeadline(r);
        if (r.commits < _K && block.timestamp <= commitDeadline) revert ReexecNotYet(jobId, commitDeadline);
        uint40 deadline = commitDeadline + _REVEAL_WINDOW;
        if (block.timestamp > deadline) revert ReexecClosed(jobId, deadline);
        bytes32 vote = _votes[jobId][msg.sender];
        if (uint256(vote) <= uint256(DISAGREED) || vote != _voteHash(jobId, msg.sender, agrees, salt)) {
            revert ReexecBadReveal(jobId, msg.sender);
        }
        if (agrees) {
            _votes[jobId][msg.sender] = AGREED;
            r.agrees += 1;
        } else {
            _votes[jobId][msg.sender] = DISAGREED;
            r.disagrees += 1;
        }
        emit VoteRevealed(jobId, msg.sender, agrees);
    }

    /// @inheritdoc IReexecVerifier
    /// @dev Each member's share is fee / k. The side with more revealed votes wins; its
    /// members keep their shares and split, equally, the shares and slashes of the members who
    /// did not reveal or voted against it (the division's remainder to the first). On a tie
    /// every revealer keeps its share and the lost ones go to the requester, as does
    /// everything when no one won (it paid for a check that did not happen). Without a
    /// committee the whole fee goes back to the requester.
    function settle(uint256 jobId) external nonReentrant {
        Round storage r = _rounds[jobId];
        Stage stage = r.stage;
        if (stage != Stage.Submitted && stage != Stage.Drawn) revert ReexecWrongStage(jobId, stage);
        uint40 deadline = _commitDeadline(r) + _REVEAL_WINDOW;
        bool allRevealed = uint256(r.agrees) + r.disagrees == _K;
        if (block.timestamp <= deadline && !allRevealed) revert ReexecNotYet(jobId, deadline);
        IJobMarket jobs = IJobMarket(market());
        (IJobMarket.JobStatus status,) = jobs.jobStatus(jobId);
        if (status != IJobMarket.JobStatus.Paid && status != IJobMarket.JobStatus.Settled) {
            revert ReexecMarketNotSettled(jobId);
        }
        r.stage = Stage.Settled;
        uint256 fee = r.fee;
        (uint256 winners, uint256 paid, uint256 toRequester) =
            stage == Stage.Drawn ? _payCommittee(jobId, r, fee) : (0, 0, fee);
        _credit(r.requester, toRequester);
        emit RoundSettled(jobId, winners, paid, toRequester);
        // The market is trusted (given at deployment); its ETH lands in {receive}. A dispute
        // round's fee was paid here when it was opened.
        if (fee != 0 && !r.dispute) jobs.withdraw(address(0), address(this), fee);
    }

    // --- reads ------------------------------------------------------------------------------

    /// @inheritdoc IReexecVerifier
    function voteHash(uint256 jobId, address verifier, bool agrees, bytes32 salt)
        external
        view
        returns (bytes32)
    {
        return _voteHash(jobId, verifier, agrees, salt);
    }

    /// @inheritdoc IReexecVerifier
    function roundOf(uint256 jobId) external view returns (Round memory) {
        return _rounds[jobId];
    }

    /// @inheritdoc IReexecVerifier
    function committeeOf(uint256 jobId) external view returns (address[] memory) {
        return _committees[jobId];
    }

    /// @inheritdoc IReexecVerifier
    function voteOf(uint256 jobId, address verifier) external view returns (bytes32) {
        return _votes[jobId][verifier];
    }

    /// @inheritdoc IReexecVerifier
    function memberOf(address account) external view returns (Member memory) {
        return _members[account];
    }

    /// @inheritdoc IReexecVerifier
    function pool() external view returns (address[] memory) {
        return _pool;
    }

    /// @inheritdoc IReexecVerifier
    function balanceOf(address account) external view returns (uint256) {
        return _balances[account];
    }

    /// @inheritdoc IReexecVerifier
    function params() external view returns (Params memory) {
        return Params(
            _K,
            _MIN_BOND,
            _FEE_PER_VERIFIER,
            _SLASH_BPS,
            _DRAW_WINDOW,
            _COMMIT_WINDOW,
            _REVEAL_WINDOW,
            _CHALLENGE_WINDOW,
            _ARBITRATION_WINDOW,
            _LEAVE_DELAY
        );
    }

    /// @inheritdoc IReexecVerifier
    function market() public view returns (address) {
        return _MARKET;
    }

    /// @inheritdoc IReexecVerifier
    function disputeFee() public view returns (uint96) {
        return uint96(_K) * _FEE_PER_VERIFIER;
    }

    /// @inheritdoc IReexecVerifier
    function disputeVerdict(uint256 jobId) external view returns (Verdict) {
        Round storage r = _rounds[jobId];
        return r.dispute ? _majority(r) : Verdict.Pending;
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
    function hooks() external pure returns (uint8) {
        return VerifierHooks.ALL;
    }

    // --- internal ---------------------------------------------------------------------------

    /// @dev Credits the committee of a drawn round; see {settle}.
    function _payCommittee(uint256 jobId, Round storage r, uint256 fee)
        private
        returns (uint256 winners, uint256 paid, uint256 toRequester)
    {
        bytes32 side = r.agrees > r.disagrees ? AGREED : r.disagrees > r.agrees ? DISAGREED : bytes32(0);
        address[] memory committee = _committees[jobId];
        uint256 k = committee.length;
        uint256 share = fee / k;
        uint256 lost = fee - share * k; // the division's remainder
        address[] memory won = new address[](k);
        for (uint256 i; i < k; ++i) {
            (bool winner, uint256 forfeited) = _judge(jobId, committee[i], side, share);
            if (winner) won[winners++] = committee[i];
            else if (forfeited == 0) paid += share;
            lost += forfeited;
        }
        if (winners == 0) return (0, paid, lost);
        uint256 each = lost / winners;
        for (uint256 i; i < winners; ++i) {
            _credit(won[i], share + each + (i == 0 ? lost - each * winners : 0));
        }
        return (winners, paid + share * winners + lost, 0);
    }

    /// @dev Closes `member`'s seat on `jobId`: a winner is paid by the caller; a tied revealer
    /// gets its share here; anyone else forfeits its share and `slashBps` of its bond.
    function _judge(uint256 jobId, address member, bytes32 side, uint256 share)
        private
        returns (bool winner, uint256 forfeited)
    {
        Member storage m = _members[member];
        m.open -= 1;
        bytes32 vote = _votes[jobId][member];
        if (side != 0 && vote == side) return (true, 0);
        if (side == 0 && (vote == AGREED || vote == DISAGREED)) {
            _credit(member, share);
            return (false, 0);
        }
        uint128 slashed = uint128(uint256(m.bond) * _SLASH_BPS / 10_000);
        m.bond -= slashed;
        emit MemberPenalised(jobId, member, slashed);
        return (false, share + slashed);
    }

    /// @dev A majority of the whole committee, else `Pending`.
    function _majority(Round storage r) private view returns (Verdict) {
        if (uint256(r.disagrees) * 2 > _K) return Verdict.WorkerLoses;
        if (uint256(r.agrees) * 2 > _K) return Verdict.WorkerWins;
        return Verdict.Pending;
    }

    /// @dev Whether `module` (a job's mode module) is a {CommitteeArbiter} whose court, in
    /// this module's market, is this module. A module without `courtMode` is not.
    function _isCourtOf(address module) private view returns (bool) {
        (bool ok, bytes memory answer) = module.staticcall(abi.encodeCall(ICommitteeArbiter.courtMode, ()));
        if (!ok || answer.length != 32) return false;
        uint256 mode = abi.decode(answer, (uint256));
        if (mode > type(uint8).max) return false;
        return address(IJobMarketAdmin(market()).modeOf(uint8(mode)).module) == address(this);
    }

    function _credit(address account, uint256 amount) private {
        if (amount == 0) return;
        _balances[account] += amount;
        emit Credited(account, amount);
    }

    function _onCommittee(uint256 jobId, address account) private view returns (bool) {
        address[] storage committee = _committees[jobId];
        uint256 k = committee.length;
        for (uint256 i; i < k; ++i) {
            if (committee[i] == account) return true;
        }
        return false;
    }

    function _commitDeadline(Round storage r) private view returns (uint40) {
        return r.submittedAt + _DRAW_WINDOW + _COMMIT_WINDOW;
    }

    function _voteHash(uint256 jobId, address verifier, bool agrees, bytes32 salt)
        private
        view
        returns (bytes32)
    {
        return keccak256(abi.encode(address(this), jobId, verifier, agrees, salt));
    }
}
