// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IJobMarket} from "./IJobMarket.sol";
import {IVerifier} from "./IVerifier.sol";

/// @notice The entry point of an EZKL-generated halo2 verifier (reverts or returns false on a
/// bad proof). EZKL does not declare it `view`, but it only reads and calls precompiles:
/// declared `view` here, it is called with STATICCALL, so a provider's verifier can neither
/// change state nor re-enter anything.
interface IHalo2Verifier {
    function verifyProof(bytes calldata proof, uint256[] calldata instances) external view returns (bool);
}

/// @title IZkVerifier
/// @notice The ZK verification mode: a result is paid at submission when it carries an EZKL
/// proof that the model's circuit maps the job's input file to the submitted output file.
/// Each model's provider sets its circuit's verifier once (see {setVerifier}); a model without
/// one cannot be served in this mode.
///
/// `Result.proof` is `abi.encode(bytes proof, uint256[] instances)`: EZKL's proof bytes and its
/// public instances, the model's inputs then its outputs. The input file is one byte per input
/// (0..maxInput), the output file one big-endian int256 per output (a field element above r/2
/// stands for itself minus r), both raw single-block IPFS files, so each CID's digest is the
/// file's sha256 ({ZkBinding}).
interface IZkVerifier is IVerifier {
    /// @notice Why a result was refused ({check}, {ProofRefused}); `detail` says more:
    /// - `NoVerifier`: the model has no verifier (detail 0);
    /// - `CodecNotRaw`: the input or output CID is not raw (detail: the codec);
    /// - `OutputHashMismatch`: `outputHash` is not the output CID's digest (detail 0);
    /// - `MalformedProof`: the proof bytes are not the encoding above (detail: their length);
    /// - `InstanceCount`: the proof has `detail` instances, not inputs + outputs;
    /// - `InputOutOfRange`: public input `detail` is above `maxInput`;
    /// - `OutputOutOfField`: public output `detail` is not a field element;
    /// - `InputMismatch` / `OutputMismatch`: the proof's file has sha256 `detail`, not the job's;
    /// - `ProofInvalid`: the verifier refused the proof (detail 0).
    enum Refusal {
        None,
        NoVerifier,
        CodecNotRaw,
        OutputHashMismatch,
        MalformedProof,
        InstanceCount,
        InputOutOfRange,
        OutputOutOfField,
        InputMismatch,
        OutputMismatch,
        ProofInvalid
    }

    /// @notice A model's circuit: its verifier, the layout of its public instances, and the
    /// gas its verifier is given (always all of it: a proof is never refused for want of gas).
    struct Circuit {
        IHalo2Verifier verifier;
        uint16 numInputs;
        uint16 numOutputs;
        uint8 maxInput;
        uint32 verifyGas;
    }

    /// @notice Thrown when `caller` sets the verifier of `modelId` without being its provider.
    error ZkVerifierNotProvider(uint32 modelId, address caller);
    /// @notice Thrown when the verifier of `modelId` is set a second time (it is `verifier`).
    error ZkVerifierAlreadySet(uint32 modelId, address verifier);
    /// @notice Thrown when the verifier given has no code.
    error ZkVerifierNoCode(address verifier);
    /// @notice Thrown when a circuit has no input, no output or no verification gas.
    error ZkVerifierBadCircuit(uint16 numInputs, uint16 numOutputs, uint32 verifyGas);
    /// @notice Thrown when too little gas is left to give the verifier its `verifyGas`: the
    /// caller's gas limit is too low, which must not pass for a bad proof.
    error ZkVerifierOutOfGas(uint256 jobId, uint256 verifyGas);

    /// @notice Emitted when the provider of `modelId` set its circuit (once and for good).
    event VerifierSet(
        uint32 indexed modelId,
        address indexed verifier,
        uint16 numInputs,
        uint16 numOutputs,
        uint8 maxInput,
        uint32 verifyGas
    );
    /// @notice Emitted when `market` submitted a proven result for `jobId`.
    event ProofAccepted(address indexed market, uint256 indexed jobId, uint32 indexed modelId);
    /// @notice Emitted when a result was refused. Through a market the submission reverts and
    /// takes this event with it: a worker asks {check} (eth_call) for the reason.
    event ProofRefused(
        address indexed market, uint256 indexed jobId, uint32 indexed modelId, Refusal refusal, uint256 detail
    );

    /// @notice Set the verifier of `modelId`'s circuit, once and for good, so that a worker
    /// never sees the check change under a claimed job.
    /// Requirements: the caller is the model's provider in the registry; not set before;
    /// `verifier` has code; `numInputs`, `numOutputs` and `verifyGas` are not zero.
    /// @param verifyGas Gas the verifier gets for each proof: more than a valid proof takes
    /// (a submission must then carry it; measure it at publish time and add a margin).
    /// Emits {VerifierSet}.
    function setVerifier(
        uint32 modelId,
        IHalo2Verifier verifier,
        uint16 numInputs,
        uint16 numOutputs,
        uint8 maxInput,
        uint32 verifyGas
    ) external;

    /// @notice Check `proof` for the result `job` carries, without recording anything (how a
    /// worker learns why a submission would be refused).
    /// @return refusal `None` when the proof binds this job's input and output and verifies.
    /// @return detail What the refusal is about (see {Refusal}).
    function check(IJobMarket.Job calldata job, bytes calldata proof)
        external
        view
        returns (Refusal refusal, uint256 detail);

    /// @notice The circuit set for `modelId` (a zero verifier when none is).
    function circuitOf(uint32 modelId) external view returns (Circuit memory);

    /// @notice The model registry whose providers set the verifiers.
    function registry() external view returns (address);
}
