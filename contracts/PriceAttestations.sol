// SPDX-License-Identifier: MIT
// The attester set of one engine and the EIP-712 price attestations they sign. An attestation is
// accepted before its deadline, while fresh, naming enough independent chains, and with
// `threshold` distinct attester signatures (sorted by signer so that none counts twice); while it
// is fresh it serves any number of positions (a crash is cleared with one range, in batches).
pragma solidity ^0.8.22;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {IPriceAttestations, PriceAttestation} from "./interfaces/IPriceAttestations.sol";

contract PriceAttestations is IPriceAttestations, Ownable, EIP712 {
    bytes32 public constant ATTESTATION_TYPEHASH = keccak256(
        "PriceAttestation(bytes32 market,uint256 low,uint256 high,uint256 median,uint64 timestamp,uint64[] chains,uint64 deadline)"
    );

    mapping(address => bool) public isAttester;
    uint8 public threshold;
    error InvalidConfig();
    error AttestationExpired(uint64 deadline);
    error AttestationStale(uint64 timestamp);
    error AttestationMalformed();
    error TooFewChains(uint256 chains, uint256 required);
    error TooFewSigners(uint256 signers, uint256 threshold);
    error UnknownOrUnsortedSigner(address signer);

    event AttestersSet(address[] added, address[] removed, uint8 threshold);

    constructor(address owner_) Ownable(owner_) EIP712("isorelay PriceAttestations", "1") {}

    /// @notice Adds `added`, removes `removed`; `threshold_` of the set must sign each attestation.
    function setAttesters(address[] calldata added, address[] calldata removed, uint8 threshold_) external onlyOwner {
        for (uint256 i; i < removed.length; i++) isAttester[removed[i]] = false;
        for (uint256 i; i < added.length; i++) isAttester[added[i]] = true;
        if (threshold_ == 0) revert InvalidConfig();
        threshold = threshold_;
        emit AttestersSet(added, removed, threshold_);
    }

    function digestOf(PriceAttestation calldata a) public view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    ATTESTATION_TYPEHASH,
                    a.market,
                    a.low,
                    a.high,
                    a.median,
                    a.timestamp,
                    keccak256(abi.encodePacked(a.chains)),
                    a.deadline
                )
            )
        );
    }

    function verify(PriceAttestation calldata a, bytes[] calldata signatures, uint256 maxAge, uint256 minChains)
        external
        view
        returns (bytes32 digest)
    {
        if (block.timestamp > a.deadline) revert AttestationExpired(a.deadline);
        if (a.timestamp > block.timestamp || a.timestamp + maxAge < block.timestamp) revert AttestationStale(a.timestamp);
        if (a.low == 0 || a.low > a.median || a.median > a.high) revert AttestationMalformed();
        if (a.chains.length < minChains) revert TooFewChains(a.chains.length, minChains);
        for (uint256 i = 1; i < a.chains.length; i++) {
            if (a.chains[i] <= a.chains[i - 1]) revert AttestationMalformed();
        }
        digest = digestOf(a);
        if (signatures.length < threshold) revert TooFewSigners(signatures.length, threshold);
        address last;
        for (uint256 i; i < signatures.length; i++) {
            address signer = ECDSA.recover(digest, signatures[i]);
            if (!isAttester[signer] || signer <= last) revert UnknownOrUnsortedSigner(signer);
            last = signer;
        }
    }
}
