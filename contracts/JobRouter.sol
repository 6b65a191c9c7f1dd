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
        (address signer, address token) = _admit(signed);
        SignedJobRequest[] memory items = new SignedJobRequest[](1);
        items[0] = signed;
        (uint256[] memory ids, uint256[] memory spent) = IJobMarketRouter(signed.market).openFor(items);
        jobId = ids[0];
        if (signer != signed.requester) _spend(signed.requester, signer, token, jobId, spent[0]);
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
        address[] memory signers = new address[](count);
        address[] memory tokens = new address[](count);
        for (uint256 i; i < count; ++i) {
            (signers[i], tokens[i]) = _admit(signed[i]);
        }
        uint256 start;
        while (start < count) {
            address market = signed[start].market;
            uint256 end = start + 1;
            while (end < count && signed[end].market == market) ++end;
            _openRun(signed, start, end, signers, tokens, jobIds);
            start = end;
        }
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
        if (signer != requester) _checkSession(requester, signer, signed.job.terms.token, 0);
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

    /// @dev Checks expiry, signature and (for a session signer) the cap against `maxPrice`,
    /// and uses the nonce, before the market is called. Returns the signer and, for a session
    /// signer, the model's token its cap is kept in.
    function _admit(SignedJobRequest calldata signed) private returns (address signer, address token) {
        address requester = signed.requester;
        if (block.timestamp > signed.expiry) revert JobRouterSignatureExpired(signed.expiry);
        signer = _signerOf(requester, _requestDigest(signed), signed.signature);
        if (signer != requester) {
            token = _MODELS.terms(signed.request.modelId).token;
            _checkSession(requester, signer, token, signed.request.maxPrice);
        }
        _useNonce(requester, signed.nonce);
    }

    /// @dev Opens items [start, end) of `signed`, which all name one market, in one call.
    function _openRun(
        SignedJobRequest[] calldata signed,
        uint256 start,
        uint256 end,
        address[] memory signers,
        address[] memory tokens,
        uint256[] memory jobIds
    ) private {
        address market = signed[start].market;
        uint256[] memory ids;
        uint256[] memory spent;
        if (end - start == signed.length) {
            (ids, spent) = _forward(market);
        } else {
            SignedJobRequest[] memory run = new SignedJobRequest[](end - start);
            for (uint256 k; k < run.length; ++k) {
                run[k] = signed[start + k];
            }
            (ids, spent) = IJobMarketRouter(market).openFor(run);
        }
        for (uint256 k; k < end - start; ++k) {
            uint256 i = start + k;
            jobIds[i] = ids[k];
            address requester = signed[i].requester;
            if (signers[i] != requester) _spend(requester, signers[i], tokens[i], ids[k], spent[k]);
        }
    }

    /// @dev `openFor(signed)` for a batch naming one market, by forwarding this call's own
    /// calldata under openFor's selector: `createJobsFor(SignedJobRequest[])` and
    /// `openFor(SignedJobRequest[])` share one ABI layout, and the market decodes the very
    /// bytes this router decoded, so it sees the same requests. Re-encoding them would cost
    /// about a thousand gas per request.
    function _forward(address market) private returns (uint256[] memory ids, uint256[] memory spent) {
        bytes memory data = msg.data;
        bytes4 selector = IJobMarketRouter.openFor.selector;
        assembly ("memory-safe") {
            let head := add(data, 0x20)
            mstore(head, or(and(mload(head), shr(32, not(0))), selector))
        }
        (bool ok, bytes memory returned) = market.call(data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(returned, 0x20), mload(returned))
            }
        }
        (ids, spent) = abi.decode(returned, (uint256[], uint256[]));
    }

    /// @dev Who signed `digest` for `account`: the account itself (EOA or ERC-1271), or the
    /// address an ECDSA signature recovers to, which the caller then requires to hold a
    /// session. Anything else is an invalid signature.
    function _signerOf(address account, bytes32 digest, bytes calldata signature) private view returns (address) {
        (address recovered, ECDSA.RecoverError error,) = ECDSA.tryRecover(digest, signature);
        bool recoveredOk = error == ECDSA.RecoverError.NoError;
        if (recoveredOk && recovered == account) return account;
        if (SignatureChecker.isValidERC1271SignatureNow(account, digest, signature)) return account;
        if (!recoveredOk) revert JobRouterInvalidSignature(account);
        return recovered;
    }

    /// @dev An unknown or revoked signer is an invalid signature, as if sessions did not exist.
    function _checkSession(address requester, address signer, address token, uint256 needed) private view {
        Session memory session = _sessions[requester][signer][token];
        if (session.expiry == 0) revert JobRouterInvalidSignature(requester);
        if (block.timestamp > session.expiry) revert JobRouterSessionExpired(requester, signer, session.expiry);
        if (session.remaining < needed) {
            revert JobRouterSessionCapExceeded(requester, signer, session.remaining, needed);
        }
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
