// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IJobMarket} from "./interfaces/IJobMarket.sol";
import {IJobMarketRouter} from "./interfaces/IJobMarketRouter.sol";
import {IJobRouter} from "./interfaces/IJobRouter.sol";
import {IModelRegistry} from "./interfaces/IModelRegistry.sol";

/// @title JobRouter
/// @notice Verifies EIP-712 requests, disputes and deposits, and passes them to the market
/// each one names; see {IJobRouter} for the caveats.
///
/// Trust: nobody administers it and it holds no money. A market trusts only the router it was
/// deployed with. A signature names its market, so a market can only ever act on what was
/// signed for it; a hostile market named by a signer learns nothing it can use elsewhere.
contract JobRouter is IJobRouter, ReentrancyGuardTransient, EIP712 {
    uint256 public constant MAX_BATCH = 50;
    uint40 public constant MAX_SESSION_TTL = 90 days;
    bytes32 public constant JOB_REQUEST_TYPEHASH = keccak256(
        "JobRequest(address market,address requester,uint32 modelId,bytes inputCid,uint96 maxPrice,"
        "uint40 requestDeadline,uint32 workTime,uint8 verification,uint8 pricing,bytes32 pricingData,"
        "address callback,uint32 callbackGas,uint96 callbackFee,uint256 nonce,uint256 expiry)"
    );
    bytes32 public constant DISPUTE_TYPEHASH =
        keccak256("Dispute(address market,uint256 jobId,bytes32 job,uint256 nonce,uint256 expiry)");
    bytes32 public constant DEPOSIT_TYPEHASH = keccak256(
        "Deposit(address market,address owner,address token,uint256 amount,uint256 nonce,uint256 expiry)"
    );

    IModelRegistry private immutable _MODELS;

    /// @dev Per-item state of one {createJobsFor}: `signers[i]` is zero for an item skipped
    /// before the market call; `spent` is what each opened job took from its deposit.
    struct Batch {
        address[] signers;
        address[] tokens;
        uint256[] spent;
        bool skipped;
    }

    mapping(address account => mapping(uint256 word => uint256 bits)) private _nonces;
    mapping(address requester => mapping(address signer => mapping(address token => Session))) private
        _sessions;

    /// @param models The model registry every market shares: a session's token is the model's.
    constructor(IModelRegistry models) EIP712("Inferchain JobRouter", "2") {
        _MODELS = models;
    }

    // --- signed actions -------------------------------------------------------------------

    /// @inheritdoc IJobRouter
    function createJobFor(SignedJobRequest calldata signed) external nonReentrant returns (uint256 jobId) {
        (, address signer, address token) = _admit(signed, true);
        SignedJobRequest[] memory items = new SignedJobRequest[](1);
        items[0] = signed;
        (uint256[] memory ids, uint256[] memory spent) = IJobMarketRouter(signed.market).openFor(items);
        jobId = ids[0];
        address requester = signed.requester;
        if (signer != requester) {
            _release(requester, signer, token, _needed(signed.request));
            _spend(requester, signer, token, jobId, spent[0]);
        }
    }

    /// @inheritdoc IJobRouter
    function createJobsFor(SignedJobRequest[] calldata signed)
        external
        nonReentrant
        returns (uint256[] memory jobIds)
    {
        uint256 count = signed.length;
        if (count == 0 || count > MAX_BATCH) revert JobRouterInvalidBatchLength(count, MAX_BATCH);
        jobIds = new uint256[](count);
        Batch memory batch = Batch(new address[](count), new address[](count), new uint256[](count), false);
        bool sessions;
        for (uint256 i; i < count; ++i) {
            SignedJobRequest calldata item = signed[i];
            (bytes4 problem, address signer, address token) = _admit(item, false);
            if (problem != 0) {
                // signers[i] stays zero: the item is out of the batch.
                emit RequestSkipped(item.requester, item.nonce, problem);
                batch.skipped = true;
                continue;
            }
            (batch.signers[i], batch.tokens[i]) = (signer, token);
            if (signer != item.requester) sessions = true;
        }
        uint256 start;
        while (start < count) {
            address market = signed[start].market;
            uint256 end = start + 1;
            while (end < count && signed[end].market == market) ++end;
            if (end - start == count && !batch.skipped) {
                // One market, nothing skipped: its answer is the batch's (the common case).
                (bool ok, bytes memory returned) = _forward(market);
                if (ok) {
                    (jobIds, batch.spent) = abi.decode(returned, (uint256[], uint256[]));
                } else {
                    _refuse(returned);
                    _openEach(signed, start, end, market, batch, jobIds);
                }
            } else {
                _openRun(signed, start, end, batch, jobIds);
            }
            start = end;
        }
        if (sessions) _settleSessions(signed, batch, jobIds);
    }

    /// @inheritdoc IJobRouter
    function createJobWithPermit(address market, IJobMarket.JobRequest calldata request, Permit calldata permit)
        external
        nonReentrant
        returns (uint256 jobId)
    {
        IModelRegistry.Terms memory terms = _MODELS.terms(request.modelId);
        if (terms.token == address(0)) revert JobRouterNotAToken(request.modelId);
        _tryPermit(terms.token, msg.sender, market, request.maxPrice, permit);
        // The caller pays for itself: its own allowance, and at most the price of this job.
        IJobMarketRouter(market).depositFor(msg.sender, terms.token, terms.price);
        SignedJobRequest[] memory items = new SignedJobRequest[](1);
        (items[0].market, items[0].request, items[0].requester) = (market, request, msg.sender);
        (uint256[] memory ids,) = IJobMarketRouter(market).openFor(items);
        return ids[0];
    }

    /// @inheritdoc IJobRouter
    function depositWithSig(SignedDeposit calldata signed, Permit calldata permit) external nonReentrant {
        address owner = signed.owner;
        if (block.timestamp > signed.expiry) revert JobRouterSignatureExpired(signed.expiry);
        // Only the owner itself: a session signer never moves a wallet's tokens.
        if (!SignatureChecker.isValidSignatureNow(owner, _depositDigest(signed), signed.signature)) {
            revert JobRouterInvalidSignature(owner);
        }
        _useNonce(owner, signed.nonce);
        _tryPermit(signed.token, owner, signed.market, signed.amount, permit);
        IJobMarketRouter(signed.market).depositFor(owner, signed.token, signed.amount);
    }

    /// @inheritdoc IJobRouter
    function disputeFor(SignedDispute calldata signed) external nonReentrant returns (uint96 bond) {
        address requester = signed.job.requester;
        if (block.timestamp > signed.expiry) revert JobRouterSignatureExpired(signed.expiry);
        address signer = _signerOf(requester, _disputeDigest(signed), signed.signature);
        if (signer == address(0)) revert JobRouterInvalidSignature(requester);
        if (signer != requester) _checkSession(requester, signer, signed.job.terms.token, 0, true);
        _useNonce(requester, signed.nonce);
        bond = IJobMarketRouter(signed.market).disputeFor(signed.jobId, signed.job, requester);
        if (signer != requester) _spend(requester, signer, signed.job.terms.token, signed.jobId, bond);
    }

    // --- sessions and nonces --------------------------------------------------------------

    /// @inheritdoc IJobRouter
    function increaseSignerCap(address signer, address token, uint96 added, uint40 expiry) external {
        if (signer == address(0)) revert JobRouterZeroAddress();
        if (added == 0) revert JobRouterZeroAmount();
        if (expiry <= block.timestamp || expiry > block.timestamp + MAX_SESSION_TTL) {
            revert JobRouterInvalidExpiry(expiry, block.timestamp + 1, block.timestamp + MAX_SESSION_TTL);
        }
        Session storage session = _sessions[msg.sender][signer][token];
        uint256 remaining = uint256(session.remaining) + added;
        if (remaining > type(uint96).max) revert JobRouterCapOverflow(session.remaining, added);
        // Fits: checked just above.
        session.remaining = uint96(remaining);
        session.expiry = expiry;
        emit SignerCapChanged(msg.sender, signer, token, uint96(remaining), expiry);
    }

    /// @inheritdoc IJobRouter
    function decreaseSignerCap(address signer, address token, uint96 removed) external {
        Session storage session = _sessions[msg.sender][signer][token];
        uint40 expiry = session.expiry;
        if (expiry == 0) revert JobRouterSignerNotAuthorized(msg.sender, signer, token);
        uint96 remaining = session.remaining;
        // Safe: the subtraction runs only when it cannot underflow; otherwise it saturates.
        unchecked {
            remaining = remaining > removed ? remaining - removed : 0;
        }
        session.remaining = remaining;
        emit SignerCapChanged(msg.sender, signer, token, remaining, expiry);
    }

    /// @inheritdoc IJobRouter
    function revokeSigner(address signer, address token) external {
        if (_sessions[msg.sender][signer][token].expiry == 0) {
            revert JobRouterSignerNotAuthorized(msg.sender, signer, token);
        }
        delete _sessions[msg.sender][signer][token];
        emit SignerRevoked(msg.sender, signer, token);
    }

    /// @inheritdoc IJobRouter
    function invalidateNonce(uint256 nonce) external {
        _useNonce(msg.sender, nonce);
        emit NonceInvalidated(msg.sender, nonce);
    }

    // --- views ----------------------------------------------------------------------------

    /// @inheritdoc IJobRouter
    function sessionOf(address requester, address signer, address token)
        external
        view
        returns (uint96 remaining, uint40 expiry)
    {
        Session memory session = _sessions[requester][signer][token];
        return (session.remaining, session.expiry);
    }

    /// @inheritdoc IJobRouter
    function nonceUsed(address account, uint256 nonce) external view returns (bool) {
        return _nonces[account][nonce >> 8] & (1 << (nonce & 0xff)) != 0;
    }

    /// @inheritdoc IJobRouter
    function requestDigest(SignedJobRequest calldata signed) external view returns (bytes32) {
        return _requestDigest(signed);
    }

    /// @inheritdoc IJobRouter
    function disputeDigest(SignedDispute calldata signed) external view returns (bytes32) {
        return _disputeDigest(signed);
    }

    /// @inheritdoc IJobRouter
    function depositDigest(SignedDeposit calldata signed) external view returns (bytes32) {
        return _depositDigest(signed);
    }

    /// @notice The model registry whose tokens key the sessions.
    function modelRegistry() external view returns (address) {
        return address(_MODELS);
    }

    // --- internals ------------------------------------------------------------------------

    /// @dev Checks expiry, signature, nonce and (for a session signer) the cap against
    /// `maxPrice + callbackFee`, then uses the nonce and reserves that much of the cap, before
    /// the market is called; {_release} gives the reservation back once the market answered.
    /// A failure reverts with its typed error when `strict`, else changes nothing and returns
    /// the error's selector as `problem`. Returns the signer and, for a session signer, the
    /// model's token its cap is kept in.
    function _admit(SignedJobRequest calldata signed, bool strict)
        private
        returns (bytes4 problem, address signer, address token)
    {
        address requester = signed.requester;
        if (block.timestamp > signed.expiry) {
            problem = _fail(strict, abi.encodeWithSelector(JobRouterSignatureExpired.selector, signed.expiry));
            return (problem, signer, token);
        }
        signer = _signerOf(requester, _requestDigest(signed), signed.signature);
        if (signer == address(0)) {
            problem = _fail(strict, abi.encodeWithSelector(JobRouterInvalidSignature.selector, requester));
            return (problem, signer, token);
        }
        uint256 needed;
        if (signer != requester) {
            try _MODELS.terms(signed.request.modelId) returns (IModelRegistry.Terms memory terms) {
                token = terms.token;
            } catch (bytes memory reason) {
                return (_fail(strict, reason), signer, token);
            }
            needed = _needed(signed.request);
            problem = _checkSession(requester, signer, token, needed, strict);
            if (problem != 0) return (problem, signer, token);
        }
        uint256 nonce = signed.nonce;
        uint256 word = _nonces[requester][nonce >> 8];
        uint256 bit = 1 << (nonce & 0xff);
        if (word & bit != 0) {
            problem = _fail(strict, abi.encodeWithSelector(JobRouterNonceUsed.selector, requester, nonce));
            return (problem, signer, token);
        }
        _nonces[requester][nonce >> 8] = word | bit;
        // Fits and cannot underflow: _checkSession saw remaining >= needed.
        if (needed != 0) _sessions[requester][signer][token].remaining -= uint96(needed);
    }

    /// @dev Opens the admitted items of [start, end) of `signed`, which all name one market,
    /// in one call (re-encoded: some of the batch is skipped or names another market). Should
    /// the market refuse it, each item is tried alone: one the market
    /// refuses is skipped ({RequestSkipped}, its nonce unused again), unless the refusal is the
    /// caller's own business (a paused market, or no reason: out of gas), which reverts.
    function _openRun(
        SignedJobRequest[] calldata signed,
        uint256 start,
        uint256 end,
        Batch memory batch,
        uint256[] memory jobIds
    ) private {
        address market = signed[start].market;
        SignedJobRequest[] memory run = _admitted(signed, start, end, batch.signers);
        if (run.length == 0) return;
        (bool ok, bytes memory returned) = market.call(abi.encodeCall(IJobMarketRouter.openFor, (run)));
        if (!ok) {
            _refuse(returned);
            _openEach(signed, start, end, market, batch, jobIds);
            return;
        }
        (uint256[] memory ids, uint256[] memory spent) = abi.decode(returned, (uint256[], uint256[]));
        uint256 k;
        for (uint256 i = start; i < end; ++i) {
            if (batch.signers[i] == address(0)) continue;
            (jobIds[i], batch.spent[i]) = (ids[k], spent[k]);
            ++k;
        }
    }

    /// @dev The admitted items of a refused run [start, end), each alone.
    function _openEach(
        SignedJobRequest[] calldata signed,
        uint256 start,
        uint256 end,
        address market,
        Batch memory batch,
        uint256[] memory jobIds
    ) private {
        for (uint256 i = start; i < end; ++i) {
            if (batch.signers[i] != address(0)) _openAlone(signed[i], market, i, batch, jobIds);
        }
    }

    /// @dev One admitted item of a refused run, alone: opened, or skipped and its nonce freed.
    function _openAlone(
        SignedJobRequest calldata item,
        address market,
        uint256 i,
        Batch memory batch,
        uint256[] memory jobIds
    ) private {
        SignedJobRequest[] memory one = new SignedJobRequest[](1);
        one[0] = item;
        (bool ok, bytes memory returned) = market.call(abi.encodeCall(IJobMarketRouter.openFor, (one)));
        if (ok) {
            (uint256[] memory ids, uint256[] memory spent) = abi.decode(returned, (uint256[], uint256[]));
            (jobIds[i], batch.spent[i]) = (ids[0], spent[0]);
            return;
        }
        _refuse(returned);
        address requester = item.requester;
        uint256 nonce = item.nonce;
        _nonces[requester][nonce >> 8] &= ~(1 << (nonce & 0xff));
        emit RequestSkipped(requester, nonce, bytes4(returned));
    }

    /// @dev The admitted items of [start, end), copied for a market call.
    function _admitted(SignedJobRequest[] calldata signed, uint256 start, uint256 end, address[] memory signers)
        private
        pure
        returns (SignedJobRequest[] memory run)
    {
        uint256 n;
        for (uint256 i = start; i < end; ++i) {
            if (signers[i] != address(0)) ++n;
        }
        run = new SignedJobRequest[](n);
        n = 0;
        for (uint256 i = start; i < end; ++i) {
            if (signers[i] != address(0)) run[n++] = signed[i];
        }
    }

    /// @dev Reverts with a market's refusal that is the caller's business, not an item's: a
    /// paused market, or one with no reason (out of gas, or no error at all).
    function _refuse(bytes memory returned) private pure {
        if (returned.length < 4 || bytes4(returned) == IJobMarket.JobMarketPaused.selector) {
            assembly ("memory-safe") {
                revert(add(returned, 0x20), mload(returned))
            }
        }
    }

    /// @dev Gives back every session reservation of a batch, then takes what each opened job
    /// spent, in order, so that each {SignerSpent} shows what is left after that job.
    function _settleSessions(SignedJobRequest[] calldata signed, Batch memory batch, uint256[] memory jobIds)
        private
    {
        uint256 count = signed.length;
        for (uint256 i; i < count; ++i) {
            address signer = batch.signers[i];
            if (signer != address(0) && signer != signed[i].requester) {
                _release(signed[i].requester, signer, batch.tokens[i], _needed(signed[i].request));
            }
        }
        for (uint256 i; i < count; ++i) {
            address signer = batch.signers[i];
            if (jobIds[i] != 0 && signer != signed[i].requester) {
                _spend(signed[i].requester, signer, batch.tokens[i], jobIds[i], batch.spent[i]);
            }
        }
    }

    /// @dev `openFor(signed)` for a batch naming one market, by forwarding this call's own
    /// calldata under openFor's selector: `createJobsFor(SignedJobRequest[])` and
    /// `openFor(SignedJobRequest[])` share one ABI layout, and the market decodes the very
    /// bytes this router decoded, so it sees the same requests. Re-encoding them would cost
    /// about a thousand gas per request.
    function _forward(address market) private returns (bool ok, bytes memory returned) {
        bytes memory data = msg.data;
        bytes4 selector = IJobMarketRouter.openFor.selector;
        assembly ("memory-safe") {
            let head := add(data, 0x20)
            mstore(head, or(and(mload(head), shr(32, not(0))), selector))
        }
        (ok, returned) = market.call(data);
    }

    /// @dev Who signed `digest` for `account`: the account itself (EOA or ERC-1271), or the
    /// address an ECDSA signature recovers to, which the caller then requires to hold a
    /// session; zero when neither (an invalid signature).
    function _signerOf(address account, bytes32 digest, bytes calldata signature) private view returns (address) {
        (address recovered, ECDSA.RecoverError error,) = ECDSA.tryRecover(digest, signature);
        bool recoveredOk = error == ECDSA.RecoverError.NoError;
        if (recoveredOk && recovered == account) return account;
        if (SignatureChecker.isValidERC1271SignatureNow(account, digest, signature)) return account;
        return recoveredOk ? recovered : address(0);
    }

    /// @dev An unknown or revoked signer is an invalid signature, as if sessions did not
    /// exist. Reverts when `strict`, else returns the error's selector (0: the cap covers it).
    function _checkSession(address requester, address signer, address token, uint256 needed, bool strict)
        private
        view
        returns (bytes4)
    {
        Session memory session = _sessions[requester][signer][token];
        if (session.expiry == 0) {
            return _fail(strict, abi.encodeWithSelector(JobRouterInvalidSignature.selector, requester));
        }
        if (block.timestamp > session.expiry) {
            return _fail(
                strict, abi.encodeWithSelector(JobRouterSessionExpired.selector, requester, signer, session.expiry)
            );
        }
        if (session.remaining < needed) {
            return _fail(
                strict,
                abi.encodeWithSelector(
                    JobRouterSessionCapExceeded.selector, requester, signer, session.remaining, needed
                )
            );
        }
        return 0;
    }

    /// @dev Reverts with `error` when `strict` or when it carries no selector; else returns
    /// its selector, the reason a batch reports.
    function _fail(bool strict, bytes memory error) private pure returns (bytes4) {
        if (strict || error.length < 4) {
            assembly ("memory-safe") {
                revert(add(error, 0x20), mload(error))
            }
        }
        return bytes4(error);
    }

    /// @dev What a request may take from a session's cap at most: the escrow is at most
    /// `maxPrice` (price and verification fee) plus `callbackFee`.
    function _needed(IJobMarket.JobRequest calldata request) private pure returns (uint256) {
        return uint256(request.maxPrice) + request.callbackFee;
    }

    /// @dev Gives back what {_admit} reserved of a session's cap.
    function _release(address requester, address signer, address token, uint256 amount) private {
        // Fits: the amount was taken from this uint96 by _admit in this call.
        _sessions[requester][signer][token].remaining += uint96(amount);
    }

    /// @dev Takes `amount` from a session's cap. Runs after the market call, which returns
    /// what was actually spent; the guard keeps the market from reentering meanwhile.
    function _spend(address requester, address signer, address token, uint256 jobId, uint256 amount) private {
        Session storage session = _sessions[requester][signer][token];
        uint96 remaining = session.remaining;
        if (remaining < amount) revert JobRouterSessionCapExceeded(requester, signer, remaining, amount);
        // Safe: checked just above.
        unchecked {
            remaining -= uint96(amount);
        }
        session.remaining = remaining;
        emit SignerSpent(requester, signer, token, jobId, remaining);
    }

    function _useNonce(address account, uint256 nonce) private {
        uint256 bit = 1 << (nonce & 0xff);
        uint256 word = _nonces[account][nonce >> 8];
        if (word & bit != 0) revert JobRouterNonceUsed(account, nonce);
        _nonces[account][nonce >> 8] = word | bit;
    }

    /// @dev A front-runner may have used the permit already; the allowance then exists and
    /// the pull that follows decides. So a failed permit is not an error by itself.
    function _tryPermit(address token, address owner, address spender, uint256 value, Permit calldata p) private {
        if (p.deadline == 0) return;
        try IERC20Permit(token).permit(owner, spender, value, p.deadline, p.v, p.r, p.s) {} catch {}
    }

    function _requestDigest(SignedJobRequest calldata signed) private view returns (bytes32) {
        IJobMarket.JobRequest calldata r = signed.request;
        // Two static halves: their concatenation is abi.encode of all sixteen words, split
        // only to keep the stack shallow.
        bytes memory head = abi.encode(
            JOB_REQUEST_TYPEHASH,
            signed.market,
            signed.requester,
            r.modelId,
            keccak256(r.inputCid),
            r.maxPrice,
            r.requestDeadline,
            r.workTime
        );
        bytes memory tail = abi.encode(
            r.verification,
            r.pricing,
            r.pricingData,
            r.callback,
            r.callbackGas,
            r.callbackFee,
            signed.nonce,
            signed.expiry
        );
        return _hashTypedDataV4(keccak256(bytes.concat(head, tail)));
    }

    function _disputeDigest(SignedDispute calldata signed) private view returns (bytes32) {
        bytes32 job = keccak256(abi.encode(signed.job));
        return _hashTypedDataV4(
            keccak256(abi.encode(DISPUTE_TYPEHASH, signed.market, signed.jobId, job, signed.nonce, signed.expiry))
        );
    }

    function _depositDigest(SignedDeposit calldata signed) private view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    DEPOSIT_TYPEHASH,
                    signed.market,
                    signed.owner,
                    signed.token,
                    signed.amount,
                    signed.nonce,
                    signed.expiry
                )
            )
        );
    }
}
