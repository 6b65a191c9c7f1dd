// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IJobMarket} from "../interfaces/IJobMarket.sol";
import {IModelRegistry} from "../interfaces/IModelRegistry.sol";
import {IVerifier, VerifierHooks} from "../interfaces/IVerifier.sol";
import {IHalo2Verifier, IZkVerifier} from "../interfaces/IZkVerifier.sol";
import {MarketBounds} from "../libraries/MarketBounds.sol";
import {ZkBinding} from "./ZkBinding.sol";

/// @title ZkVerifier
/// @notice Verification mode `zk`: a result is paid at submission when its proof shows that
/// the model's circuit maps the job's input file to the submitted output file
/// ({IZkVerifier} for the proof encoding, {ZkBinding} for the files).
/// Caveats a user must know:
/// - Hooks: `ON_SUBMIT` only. No fee: the worker pays the proof's gas when it submits and the
///   model's price pays for proving, so a `verifyFee` would only pile up in this contract.
/// - A bad proof never reverts {onSubmit}: it returns `WorkerLoses` and the market refuses the
///   submission. The verifier always gets its circuit's full `verifyGas` (its pairing
///   precompile fails quietly when starved); a call that cannot give it reverts
///   ({ZkVerifierOutOfGas}), so that a low gas limit never passes for a bad proof.
/// - The verifier is the provider's: whoever generated the SRS could forge proofs, and the
///   verifier is only as good as its match with the published verifying key (docs/verification.md).
///   It is called with STATICCALL; one that answers with malformed return data makes
///   {onSubmit} revert (publish checks that it answers `true` for a fresh proof).
/// - The windows only matter for disputes, which a proven job never reaches (it is paid at once).
contract ZkVerifier is IZkVerifier {
    /// @dev IPFS multicodec of a raw block: its CID digest is the sha256 of the file itself.
    uint16 internal constant RAW_CODEC = 0x55;

    IModelRegistry private immutable _REGISTRY;
    uint32 private immutable _CHALLENGE_WINDOW;
    uint32 private immutable _ARBITRATION_WINDOW;

    mapping(uint32 modelId => Circuit) private _circuits;
    /// @dev keccak256 of the job tuple each market submitted with a valid proof.
    mapping(address market => mapping(uint256 jobId => bytes32 jobHash)) private _proven;

    /// @param registry_ The model registry whose providers set the verifiers.
    /// @param challengeWindow_ Seconds to dispute a result; the governor accepts 10 min..7 days.
    /// @param arbitrationWindow_ Seconds to decide a dispute; the governor accepts 1..14 days.
    constructor(IModelRegistry registry_, uint32 challengeWindow_, uint32 arbitrationWindow_) {
        MarketBounds.check(
            challengeWindow_, MarketBounds.MIN_CHALLENGE_WINDOW, MarketBounds.MAX_CHALLENGE_WINDOW
        );
        MarketBounds.check(
            arbitrationWindow_, MarketBounds.MIN_ARBITRATION_WINDOW, MarketBounds.MAX_ARBITRATION_WINDOW
        );
        _REGISTRY = registry_;
        _CHALLENGE_WINDOW = challengeWindow_;
        _ARBITRATION_WINDOW = arbitrationWindow_;
    }

    // --- provider ---------------------------------------------------------------------------

    /// @inheritdoc IZkVerifier
    function setVerifier(
        uint32 modelId,
        IHalo2Verifier verifier,
        uint16 numInputs,
        uint16 numOutputs,
        uint8 maxInput,
        uint32 verifyGas
    ) external {
        address provider = _REGISTRY.model(modelId).provider;
        if (msg.sender != provider) revert ZkVerifierNotProvider(modelId, msg.sender);
        address current = address(_circuits[modelId].verifier);
        if (current != address(0)) revert ZkVerifierAlreadySet(modelId, current);
        if (address(verifier).code.length == 0) revert ZkVerifierNoCode(address(verifier));
        if (numInputs == 0 || numOutputs == 0 || verifyGas == 0) {
            revert ZkVerifierBadCircuit(numInputs, numOutputs, verifyGas);
        }
        _circuits[modelId] = Circuit(verifier, numInputs, numOutputs, maxInput, verifyGas);
        emit VerifierSet(modelId, address(verifier), numInputs, numOutputs, maxInput, verifyGas);
    }

    // --- market -----------------------------------------------------------------------------

    /// @inheritdoc IVerifier
    /// @dev Records the job tuple of a proven result; emits {ProofAccepted} or {ProofRefused}.
    function onSubmit(uint256 jobId, IJobMarket.Job calldata job, bytes calldata proof)
        external
        returns (Verdict)
    {
        (Refusal refusal, uint256 detail) = _check(jobId, job, proof);
        if (refusal != Refusal.None) {
            emit ProofRefused(msg.sender, jobId, job.modelId, refusal, detail);
            return Verdict.WorkerLoses;
        }
        _proven[msg.sender][jobId] = keccak256(abi.encode(job));
        emit ProofAccepted(msg.sender, jobId, job.modelId);
        return Verdict.WorkerWins;
    }

    /// @inheritdoc IZkVerifier
    function check(IJobMarket.Job calldata job, bytes calldata proof)
        external
        view
        returns (Refusal refusal, uint256 detail)
    {
        return _check(0, job, proof);
    }

    // --- reads ------------------------------------------------------------------------------

    /// @inheritdoc IVerifier
    /// @dev `WorkerWins` for the very tuple the calling market submitted with a valid proof;
    /// `Pending` otherwise (a refused proof reverted its submission, so nothing was recorded).
    function verdict(uint256 jobId, IJobMarket.Job calldata job) external view returns (Verdict) {
        bytes32 proven = _proven[msg.sender][jobId];
        return proven != 0 && proven == keccak256(abi.encode(job)) ? Verdict.WorkerWins : Verdict.Pending;
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
        return VerifierHooks.ON_SUBMIT;
    }

    /// @inheritdoc IVerifier
    /// @dev Never called (no `QUOTE` flag): proving is paid through the model's price.
    function quote(address, uint32, address, uint96) external pure returns (uint96) {
        return 0;
    }

    /// @inheritdoc IZkVerifier
    function circuitOf(uint32 modelId) external view returns (Circuit memory) {
        return _circuits[modelId];
    }

    /// @inheritdoc IZkVerifier
    function registry() external view returns (address) {
        return address(_REGISTRY);
    }

    // --- internal ---------------------------------------------------------------------------

    /// @dev The first reason to refuse `proof` for `job`'s result, cheapest checks first.
    function _check(uint256 jobId, IJobMarket.Job calldata job, bytes calldata proof)
        private
        view
        returns (Refusal, uint256)
    {
        Circuit memory circuit = _circuits[job.modelId];
        if (address(circuit.verifier) == address(0)) return (Refusal.NoVerifier, 0);
        if (job.inputCodec != RAW_CODEC) return (Refusal.CodecNotRaw, job.inputCodec);
        if (job.outputCodec != RAW_CODEC) return (Refusal.CodecNotRaw, job.outputCodec);
        if (job.outputHash != job.outputDigest) return (Refusal.OutputHashMismatch, 0);
        (bool wellFormed, bytes calldata proofBytes, uint256[] calldata instances) = _decode(proof);
        if (!wellFormed) return (Refusal.MalformedProof, proof.length);
        (Refusal refusal, uint256 detail) = _bind(circuit, job.inputDigest, job.outputDigest, instances);
        if (refusal != Refusal.None) return (refusal, detail);
        return _verify(jobId, circuit, proofBytes, instances)
            ? (Refusal.None, 0)
            : (Refusal.ProofInvalid, 0);
    }

    /// @dev Whether the instances are the job's input file and the submitted output file.
    function _bind(Circuit memory circuit, bytes32 inputDigest, bytes32 outputDigest, uint256[] calldata instances)
        private
        pure
        returns (Refusal, uint256)
    {
        (ZkBinding.Fault fault, uint256 index, bytes32 inputFile, bytes32 outputFile) =
            ZkBinding.digests(instances, circuit.numInputs, circuit.numOutputs, circuit.maxInput);
        if (fault == ZkBinding.Fault.InstanceCount) return (Refusal.InstanceCount, index);
        if (fault == ZkBinding.Fault.InputOutOfRange) return (Refusal.InputOutOfRange, index);
        if (fault == ZkBinding.Fault.OutputOutOfField) return (Refusal.OutputOutOfField, index);
        if (inputFile != inputDigest) return (Refusal.InputMismatch, uint256(inputFile));
        if (outputFile != outputDigest) return (Refusal.OutputMismatch, uint256(outputFile));
        return (Refusal.None, 0);
    }

    /// @dev The verifier's answer, given exactly the circuit's `verifyGas`; a revert is a
    /// refusal. EIP-150 forwards at most 63/64 of what is left, hence the check before the call
    /// (plus room for copying the arguments).
    function _verify(uint256 jobId, Circuit memory circuit, bytes calldata proof, uint256[] calldata instances)
        private
        view
        returns (bool)
    {
        uint256 verifyGas = circuit.verifyGas;
        if (gasleft() < verifyGas + verifyGas / 63 + 20_000) revert ZkVerifierOutOfGas(jobId, verifyGas);
        try circuit.verifier.verifyProof{gas: verifyGas}(proof, instances) returns (bool ok) {
            return ok;
        } catch {
            return false;
        }
    }

    /// @dev `data` as `abi.encode(bytes proof, uint256[] instances)`, read in place; `ok` is
    /// false (never a revert) when an offset or a length points outside `data`.
    function _decode(bytes calldata data)
        private
        pure
        returns (bool ok, bytes calldata proof, uint256[] calldata instances)
    {
        proof = data[0:0];
        assembly ("memory-safe") {
            instances.offset := data.offset
            instances.length := 0
        }
        uint256 size = data.length;
        if (size < 64) return (false, proof, instances);
        uint256 proofAt = uint256(bytes32(data[0:32]));
        uint256 instancesAt = uint256(bytes32(data[32:64]));
        if (proofAt > size - 32 || instancesAt > size - 32) return (false, proof, instances);
        uint256 proofLength = uint256(bytes32(data[proofAt:proofAt + 32]));
        uint256 count = uint256(bytes32(data[instancesAt:instancesAt + 32]));
        // Both offsets are at most size - 32, so neither subtraction underflows.
        if (proofLength > size - proofAt - 32 || count > (size - instancesAt - 32) / 32) {
            return (false, proof, instances);
        }
        proof = data[proofAt + 32:proofAt + 32 + proofLength];
        assembly ("memory-safe") {
            instances.offset := add(data.offset, add(instancesAt, 32))
            instances.length := count
        }
        return (true, proof, instances);
    }
}
