// SPDX-License-Identifier: MIT
// Devnet/test price feed with the Chainlink AggregatorV3 shape. The owner writes rounds directly,
// including stale, unfinished or out-of-bounds ones, so that readers' checks can be exercised.
pragma solidity ^0.8.22;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {AggregatorV3Interface} from "../interfaces/AggregatorV3Interface.sol";

contract DevnetAggregator is AggregatorV3Interface, Ownable {
    struct Round {
        int256 answer;
        uint256 startedAt;
        uint256 updatedAt;
        uint80 answeredInRound;
        bool exists;
    }

    uint8 public immutable override decimals;
    uint256 public constant override version = 4;
    string public override description;

    /// @notice Bounds a real aggregator enforces on reports. Stored, not enforced here: tests set
    /// answers at or beyond them to check that readers do.
    int192 public minAnswer;
    int192 public maxAnswer;

    uint80 public latestRound;
    mapping(uint80 => Round) private _rounds;

    error InvalidBounds(int192 minAnswer, int192 maxAnswer);
    error RoundNotFound(uint80 roundId);
    error InvalidRoundId();

    event AnswerUpdated(int256 indexed current, uint256 indexed roundId, uint256 updatedAt);
    event RoundSet(uint80 indexed roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound);

    constructor(
        uint8 decimals_,
        string memory description_,
        int256 initialAnswer,
        int192 minAnswer_,
        int192 maxAnswer_
    ) Ownable(msg.sender) {
        if (minAnswer_ >= maxAnswer_) revert InvalidBounds(minAnswer_, maxAnswer_);
        decimals = decimals_;
        description = description_;
        minAnswer = minAnswer_;
        maxAnswer = maxAnswer_;
        _appendAnswer(initialAnswer);
    }

    /// @notice Publishes a fresh, complete round with `answer`.
    function setAnswer(int256 answer) external onlyOwner {
        _appendAnswer(answer);
    }

    /// @notice Writes an arbitrary round and makes it the latest (stale, unfinished with
    /// `updatedAt == 0`, or answered in an earlier round).
    function setRound(uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
        external
        onlyOwner
    {
        if (roundId == 0) revert InvalidRoundId();
        _rounds[roundId] = Round(answer, startedAt, updatedAt, answeredInRound, true);
        latestRound = roundId;
        emit RoundSet(roundId, answer, startedAt, updatedAt, answeredInRound);
    }

    function getRoundData(uint80 _roundId)
        external
        view
        override
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
    {
        return _read(_roundId);
    }

    function latestRoundData()
        external
        view
        override
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
    {
        return _read(latestRound);
    }

    function _appendAnswer(int256 answer) private {
        uint80 roundId = latestRound + 1;
        _rounds[roundId] = Round(answer, block.timestamp, block.timestamp, roundId, true);
        latestRound = roundId;
        emit AnswerUpdated(answer, roundId, block.timestamp);
    }

    function _read(uint80 roundId) private view returns (uint80, int256, uint256, uint256, uint80) {
        Round storage r = _rounds[roundId];
        if (!r.exists) revert RoundNotFound(roundId);
        return (roundId, r.answer, r.startedAt, r.updatedAt, r.answeredInRound);
    }
}
