// SPDX-License-Identifier: MIT
// Devnet/test L2 sequencer uptime feed with Chainlink's shape: answer 0 = up, 1 = down, and
// startedAt = when the status last changed (what the grace period after a restart counts from).
pragma solidity ^0.8.22;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {AggregatorV3Interface} from "../interfaces/AggregatorV3Interface.sol";

contract SequencerUptimeFeed is AggregatorV3Interface, Ownable {
    struct Round {
        int256 answer;
        uint256 startedAt;
        uint256 updatedAt;
    }

    uint8 public constant override decimals = 0;
    uint256 public constant override version = 1;
    string public constant override description = "L2 Sequencer Uptime Status Feed";

    uint80 public latestRound;
    mapping(uint80 => Round) private _rounds;

    error RoundNotFound(uint80 roundId);
    error StatusInFuture(uint256 since);

    event StatusChanged(uint80 indexed roundId, bool down, uint256 since);

    /// @param down Initial status.
    /// @param since When that status began (lets the devnet start outside the grace period);
    /// 0 means now.
    constructor(bool down, uint256 since) Ownable(msg.sender) {
        if (since > block.timestamp) revert StatusInFuture(since);
        _appendStatus(down, since == 0 ? block.timestamp : since);
    }

    /// @notice Records a status. A change opens a new round; the same status again only
    /// refreshes updatedAt, as the real feed does, so startedAt keeps the time of the change.
    function setStatus(bool down) external onlyOwner {
        Round storage last = _rounds[latestRound];
        if ((last.answer == 1) == down) {
            last.updatedAt = block.timestamp;
            return;
        }
        _appendStatus(down, block.timestamp);
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

    function _appendStatus(bool down, uint256 since) private {
        uint80 roundId = latestRound + 1;
        _rounds[roundId] = Round(down ? int256(1) : int256(0), since, block.timestamp);
        latestRound = roundId;
        emit StatusChanged(roundId, down, since);
    }

    function _read(uint80 roundId) private view returns (uint80, int256, uint256, uint256, uint80) {
        if (roundId == 0 || roundId > latestRound) revert RoundNotFound(roundId);
        Round storage r = _rounds[roundId];
        return (roundId, r.answer, r.startedAt, r.updatedAt, roundId);
    }
}
