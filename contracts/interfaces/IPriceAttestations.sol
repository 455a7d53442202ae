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
    /// @notice Checks an attestation (quorum, freshness, form) and returns its digest. While it is
    /// fresh it is valid for any number of positions: one reconciled range clears a whole crash.
    function verify(PriceAttestation calldata a, bytes[] calldata signatures, uint256 maxAge, uint256 minChains)
        external
        view
        returns (bytes32 digest);
}
