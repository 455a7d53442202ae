// SPDX-License-Identifier: MIT
pragma solidity ^0.8.22;

/// @notice A reconciled price range signed by attesters (EIP-712, docs/liquidation.md).
struct PriceAttestation {
    bytes32 market;
    uint256 low;
    uint256 high;
    uint256 median;
    uint64 timestamp;
    /// @dev EVM chain ids whose feeds agreed, strictly increasing.
    uint64[] chains;
    uint64 deadline;
}

interface IPriceAttestations {
    /// @notice Checks an attestation and marks it used (callable by its engine only); returns its digest.
    function consume(PriceAttestation calldata a, bytes[] calldata signatures, uint256 maxAge, uint256 minChains)
        external
        returns (bytes32 digest);
}
