// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice The entry point of an EZKL-generated halo2 verifier (reverts or returns false).
interface IHalo2Verifier {
    function verifyProof(bytes calldata proof, uint256[] calldata instances) external returns (bool);
}

/// @title ZkJobCheck
/// @notice Binds an EZKL proof to one job: its public inputs must be the job's input file and
/// its public outputs the submitted output file, then the proof must verify.
/// Caveats: the input file is one byte per public input (0..maxInput); the output file is one
/// big-endian int256 per public output (a field element above r/2 stands for itself minus r).
/// Both are raw single-block IPFS files, so their sha256 is their CIDv1 digest. Compiled with
/// the generated verifier at publish time (inferchain.zk.evm), not shipped as an artifact.
contract ZkJobCheck {
    /// @dev BN254 scalar field; the verifier refuses instances at or above it.
    uint256 internal constant FIELD_MODULUS =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;

    /// @notice Thrown when the proof carries `count` public instances instead of `expected`.
    error ZkJobCheckInstanceCount(uint256 count, uint256 expected);
    /// @notice Thrown when public input `index` is `value`, above the input file's byte range.
    error ZkJobCheckInputOutOfRange(uint256 index, uint256 value);
    /// @notice Thrown when the proof's input file hashes to `digest`, not the job's `expected`.
    error ZkJobCheckInputMismatch(bytes32 digest, bytes32 expected);
    /// @notice Thrown when the proof's output file hashes to `digest`, not the submitted `expected`.
    error ZkJobCheckOutputMismatch(bytes32 digest, bytes32 expected);
    /// @notice Thrown when the verifier refuses the proof.
    error ZkJobCheckProofRejected();

    IHalo2Verifier public immutable verifier;
    uint256 public immutable numInputs;
    uint256 public immutable numOutputs;
    uint256 public immutable maxInput;

    constructor(IHalo2Verifier verifier_, uint256 numInputs_, uint256 numOutputs_, uint256 maxInput_) {
        verifier = verifier_;
        numInputs = numInputs_;
        numOutputs = numOutputs_;
        maxInput = maxInput_;
    }

    /// @notice Check that `proof` shows the model maps the input file with sha256 `inputDigest`
    /// to the output file with sha256 `outputDigest`.
    /// Requirements: `instances` are the inputs then the outputs, matching both digests; the
    /// proof verifies. Not `view` only because the generated verifier is not declared so.
    /// @return True; every failure reverts with the error that names it.
    function check(bytes32 inputDigest, bytes32 outputDigest, bytes calldata proof, uint256[] calldata instances)
        external
        returns (bool)
    {
        uint256 inputs = numInputs;
        uint256 outputs = numOutputs;
        if (instances.length != inputs + outputs) {
            revert ZkJobCheckInstanceCount(instances.length, inputs + outputs);
        }
        bytes memory inputFile = new bytes(inputs);
        for (uint256 i; i < inputs; ++i) {
            uint256 value = instances[i];
            if (value > maxInput) revert ZkJobCheckInputOutOfRange(i, value);
            inputFile[i] = bytes1(uint8(value));
        }
        bytes32 digest = sha256(inputFile);
        if (digest != inputDigest) revert ZkJobCheckInputMismatch(digest, inputDigest);
        int256[] memory outputFile = new int256[](outputs);
        for (uint256 j; j < outputs; ++j) {
            uint256 value = instances[inputs + j];
            // A value at or above r underflows here and reverts; the verifier would refuse it too.
            outputFile[j] = value > FIELD_MODULUS / 2 ? -int256(FIELD_MODULUS - value) : int256(value);
        }
        digest = sha256(abi.encodePacked(outputFile));
        if (digest != outputDigest) revert ZkJobCheckOutputMismatch(digest, outputDigest);
        try verifier.verifyProof(proof, instances) returns (bool ok) {
            if (!ok) revert ZkJobCheckProofRejected();
        } catch {
            revert ZkJobCheckProofRejected();
        }
        return true;
    }
}
